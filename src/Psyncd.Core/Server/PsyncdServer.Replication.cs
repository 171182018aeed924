using System.Globalization;
using Psyncd.Replication;

namespace Psyncd.Server;

/// <summary>Wiring of the replication subsystem into the server.</summary>
public sealed partial class PsyncdServer
{
    /// <summary>Replication in both roles: replicas of this server, and this server's link to its master.</summary>
    public ReplicationManager Replication { get; private set; } = null!;

    private void InitializeReplication()
    {
        Replication = new ReplicationManager(this, Role) { Rdb = RdbPersistence };
        RdbPersistence.History = Replication;
        Processor.MasterStream = Replication;
        AddSecondJob(Replication.Cron);
        Loop.AddExitHook(Replication.BeforeSleep);
        Registry.AddLifecycle(Replication);
    }

    /// <summary>Starts replicating from the configured master (the slaveof directive), once listening.</summary>
    private void StartReplicationFromConfig()
    {
        if (Options.SlaveOf is { } master)
            Loop.Run(() => Replication.BecomeReplicaOf(master.Host, master.Port));
    }
}
