namespace Psyncd.Torture;

/// <summary>The faults the harness injects, by the names the summary prints and --faults takes.</summary>
public static class FaultNames
{
    /// <summary>A round's replicas attach one after the other while writes run (the bottom of a chain to a replica).</summary>
    public const string Attach = "attach";

    /// <summary>SIGKILL a replica (after a SAVE half the time) and restart it on its directory.</summary>
    public const string KillReplica = "kill-replica";

    /// <summary>SIGKILL the master after a SAVE and more writes, and restart it on its directory.</summary>
    public const string KillMaster = "kill-master";

    /// <summary>
    /// The master with appendonly yes (turned on with CONFIG SET, first base awaited, when it was off) SIGKILLed under
    /// writes without a SAVE, and restarted on its log: psyncd comes back with its exact offset.
    /// </summary>
    public const string KillMasterAof = "kill-master-aof";

    /// <summary>As kill-master-aof, for a replica: it restarts on its relay log and continues partially.</summary>
    public const string KillReplicaAof = "kill-replica-aof";

    /// <summary>A replica drops its master and attaches to another node (a replica: mid-chain), a full sync under writes.</summary>
    public const string Reattach = "reattach";

    /// <summary>As reattach, and the proxy cuts the link partway through the snapshot's payload.</summary>
    public const string CutMidRdb = "cut-mid-rdb";

    /// <summary>As reattach, and the replica is SIGKILLed (then restarted) partway through the payload.</summary>
    public const string KillReplicaMidSync = "kill-replica-mid-sync";

    /// <summary>As reattach, and the node serving the sync is SIGKILLed (then restarted) partway through the payload.</summary>
    public const string KillMasterMidSync = "kill-master-mid-sync";

    /// <summary>The proxy cuts a replica's link while the command stream flows.</summary>
    public const string CutStream = "cut-stream";

    /// <summary>The proxy stops forwarding a link for longer than repl-timeout.</summary>
    public const string StallLink = "stall-link";

    /// <summary>SIGSTOP a node for less than repl-timeout, then SIGCONT.</summary>
    public const string StopShort = "sigstop-short";

    /// <summary>SIGSTOP a node for longer than repl-timeout, then SIGCONT.</summary>
    public const string StopLong = "sigstop-long";

    /// <summary>CLIENT KILL TYPE master on a replica.</summary>
    public const string ClientKillMaster = "client-kill-master";

    /// <summary>With writes paused and offsets equal, REPLICAOF NO ONE on a replica and the others re-pointed to it.</summary>
    public const string Promote = "promote";

    /// <summary>
    /// Not a replication fault: a write made on a replica behind its master's back (replica-read-only
    /// off for one SET), which the comparison must report. Only with --faults; the harness's own test.
    /// </summary>
    public const string SelfCheck = "self-check";

    public static readonly string[] All =
    {
        Attach, KillReplica, KillMaster, KillMasterAof, KillReplicaAof, Reattach, CutMidRdb, KillReplicaMidSync, KillMasterMidSync,
        CutStream, StallLink, StopShort, StopLong, ClientKillMaster, Promote, SelfCheck,
    };

    /// <summary>The faults drawn when --faults does not name any.</summary>
    public static readonly string[] Default = All.Where(f => f != Attach && f != SelfCheck).ToArray();

    /// <summary>Faults that may come second in a cycle (short, and they leave the topology as it was).</summary>
    public static readonly string[] Light = { CutStream, StopShort, ClientKillMaster, KillReplica };
}
