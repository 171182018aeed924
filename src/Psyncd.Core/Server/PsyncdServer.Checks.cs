using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;

namespace Psyncd.Server;

/// <summary>The checks every command passes before it runs, and the keyspace's events.</summary>
public sealed partial class PsyncdServer
{
    public bool Loading
    {
        get => Dataset.Loading;
        set => Dataset.Loading = value;
    }

    public bool LastBgsaveFailed
    {
        get => Dataset.LastBgsaveFailed;
        set => Dataset.LastBgsaveFailed = value;
    }

    public int GoodReplicaCount => Role.GoodReplicaCount;

    public bool MasterLinkUp => Role.MasterLinkUp;

    /// <summary>Subsystems that want to hear of every modified key (WATCH, blocked clients...).</summary>
    public List<KeyEventHandler> KeyModifiedHandlers { get; } = new();

    /// <summary>Subsystems that want to hear of flushed databases.</summary>
    public List<Action<int>> DatabaseFlushedHandlers { get; } = new();

    /// <summary>
    /// The refusals of Redis's processCommand that depend on server state, for a command not sent by our
    /// master. Returns the error text, or null to let the command run. Cheap when nothing is wrong.
    /// </summary>
    internal string? CheckCommandAllowed(Client client, CommandDescriptor cmd, in CommandArgs args)
    {
        if (Loading && !cmd.Has(CommandFlags.Loading))
            return "LOADING Redis is loading the dataset in memory";
        bool write = cmd.Has(CommandFlags.Write);
        if (cmd.Has(CommandFlags.DenyOom))
        {
            if (Options.MaxMemory > 0 && UsedMemory() > Options.MaxMemory && !FreeMemoryIfNeeded())
                return "OOM command not allowed when used memory > 'maxmemory'.";
            long estimate = 64L * args.Count;
            for (int i = 1; i < args.Count; i++)
                estimate += args[i].Length;
            if (!Keyspace.PrepareForWrite(estimate))
                return "OOM command not allowed when used memory > 'maxmemory'.";
        }
        if (LastBgsaveFailed && Options.StopWritesOnBgsaveError && Options.Save.Count > 0 && !IsReplica
            && (write || cmd.Name == "ping"))
            return System.Text.Encoding.UTF8.GetString(ErrorReplies.Misconf);
        if (write && !IsReplica && Options.MinSlavesToWrite > 0 && Options.MinSlavesMaxLag > 0 && GoodReplicaCount < Options.MinSlavesToWrite)
            return "NOREPLICAS Not enough good slaves to write.";
        if (IsReplica)
        {
            if (write && Options.SlaveReadOnly)
                return "READONLY You can't write against a read only slave.";
            if (!MasterLinkUp && !Options.SlaveServeStaleData && !cmd.Has(CommandFlags.Stale))
                return "MASTERDOWN Link with MASTER is down and slave-serve-stale-data is set to 'no'.";
        }
        return null;
    }

    public long UsedMemory() => Memory.UsedMemory();

    /// <summary>
    /// Frees memory per maxmemory-policy until under maxmemory; false when it can't (noeviction, or
    /// nothing left to evict). Eviction policies other than noeviction are added by the eviction subsystem.
    /// </summary>
    private static bool FreeMemoryIfNeeded() => false;


    /// <summary>An empty request (a bare newline): a replica's keepalive refreshes its link.</summary>
    internal void OnEmptyRequest(Client client) => EmptyRequestHandler?.Invoke(client);

    /// <summary>Set by replication: what to do with an empty request (replica keepalives).</summary>
    public Action<Client>? EmptyRequestHandler { get; set; }

    /// <summary>A request from our master was applied: replication forwards its bytes and advances the offset.</summary>
    internal void OnMasterRequestApplied(Client client, ReadOnlySpan<byte> request) => MasterRequestHandler?.Invoke(client, request);

    /// <summary>Set by replication: receives each applied request of the master's stream, as received.</summary>
    public MasterRequestHandler? MasterRequestHandler { get; set; }

    /// <summary>The keyspace's events, routed to the subsystems that asked for them.</summary>
    private sealed class KeyspaceEvents : IKeyspaceObserver
    {
        private readonly PsyncdServer _server;

        public KeyspaceEvents(PsyncdServer server)
        {
            _server = server;
        }

        public void KeyModified(int db, ReadOnlySpan<byte> key)
        {
            var handlers = _server.KeyModifiedHandlers;
            for (int i = 0; i < handlers.Count; i++)
                handlers[i](db, key);
        }

        public void KeyExpired(int db, ReadOnlySpan<byte> key)
        {
            // A master propagates the deletion of an expired key as a DEL, so replicas delete it too.
            _server.Processor.Propagation.AddDel(db, key);
            _server.NotifyKeyspaceEvent(KeyspaceEventClass.Expired, "expired"u8, db, key);
            KeyModified(db, key);
        }

        public void DatabaseFlushed(int db)
        {
            foreach (var handler in _server.DatabaseFlushedHandlers)
                handler(db);
        }
    }
}

/// <summary>Receives one applied request of the master's stream, exactly as received.</summary>
public delegate void MasterRequestHandler(Client master, ReadOnlySpan<byte> request);
