namespace Psyncd.Execution;

/// <summary>
/// This server's replication role as the rest of the server sees it. Written only by Replication (its
/// ReplicationManager and MasterLink), read by the dispatcher, blocking, persistence and the cron.
/// </summary>
public sealed class ReplicationState
{
    /// <summary>True while this server replicates from a master.</summary>
    public bool IsReplica { get; set; }

    /// <summary>On a replica: true while the link to the master is up.</summary>
    public bool MasterLinkUp { get; set; }

    /// <summary>Replicas whose last ACK is recent enough for min-slaves-max-lag.</summary>
    public int GoodReplicaCount { get; set; }

    /// <summary>
    /// Bytes waiting in the replicas' outputs (set by Replication): left out of the memory maxmemory is compared with,
    /// as Redis leaves out its replicas' output buffers, so that a slow replica does not make the master evict its
    /// data, or refuse writes, for buffers that drain on their own.
    /// </summary>
    public Func<long>? ReplicaOutputBytes { get; set; }
}
