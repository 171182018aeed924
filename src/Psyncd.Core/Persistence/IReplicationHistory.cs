using Psyncd.Rdb;

namespace Psyncd.Persistence;

/// <summary>
/// What persistence needs from replication (declared here, implemented above by the ReplicationManager): the
/// point of the history a dump written now records, and taking up the history a loaded dump recorded. Both
/// are called inside the command loop.
/// </summary>
public interface IReplicationHistory
{
    /// <summary>The point an RDB written now records, so that the server can continue its history after a restart; null without a history.</summary>
    ReplicationPoint? PointToSave();

    /// <summary>Where the stream is now: the current id, <c>master_repl_offset</c>, and the database the stream is in (-1 when the next command will SELECT).</summary>
    ReplicationPoint CurrentPoint();

    /// <summary>At startup, after loading a dump that recorded <paramref name="point"/>: continue that history.</summary>
    void Restore(ReplicationPoint point);
}
