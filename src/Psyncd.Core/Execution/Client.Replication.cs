using Psyncd.Replication;

namespace Psyncd.Execution;

public sealed partial class Client
{
    /// <summary>On a master: this client's state as a replica (created by its first REPLCONF or SYNC).</summary>
    public ReplicaLink? ReplicaLink { get; set; }

    /// <summary>The stream's offset after this client's last command (Redis's woff), for WAIT.</summary>
    public long ReplicationOffset { get; set; }
}
