using System.Diagnostics;
using System.Globalization;
using System.Text;
using Psyncd.Rdb;
using Psyncd.Replication.Replica;

namespace Psyncd.Replication;

/// <summary>What replication reports (INFO replication) and persists (RDB AUX fields).</summary>
public sealed partial class ReplicationManager
{
    /// <summary>
    /// Appends INFO's replication section body (without the "# Replication" title), with redis-server
    /// 7.0's fields in its order; see the replication spec §5.1.
    /// </summary>
    public void AppendInfo(StringBuilder sb)
    {
        var options = Options;
        var stream = Stream;
        long now = Environment.TickCount64;
        long nowTicks = Stopwatch.GetTimestamp();
        void Field(string name, object value) => sb.Append(name).Append(':').Append(Convert.ToString(value, CultureInfo.InvariantCulture)).Append("\r\n");

        if (MasterLink is { } master)
        {
            Field("role", "slave");
            Field("master_host", master.Host);
            Field("master_port", master.Port);
            Field("master_link_status", master.IsConnected ? "up" : "down");
            Field("master_last_io_seconds_ago", master.MasterClient is null ? -1 : (now - master.LastIoMs) / 1000);
            // psyncd's own: only the replica's part of the lag (bytes read from the master until applied). The
            // stream carries no clock of the master's and nothing answers an ACK, so the time the bytes spent in
            // the master's output and on the network is seen only by the master (lag_ms, ReplicaLink.LagMs).
            Field("master_lag_ms", master.LagMs);
            Field("master_sync_in_progress", master.State == MasterLinkState.Transfer ? 1 : 0);
            long offset = master.MasterClient is null && master.Cached is null ? 1 : stream.MasterReplOffset;
            Field("slave_read_repl_offset", offset);
            Field("slave_repl_offset", offset);
            if (master.State == MasterLinkState.Transfer)
            {
                Field("master_sync_total_bytes", master.SyncTotalBytes);
                Field("master_sync_read_bytes", master.SyncReadBytes);
                Field("master_sync_left_bytes", master.SyncTotalBytes > 0 ? master.SyncTotalBytes - master.SyncReadBytes : 0);
                Field("master_sync_perc", master.SyncTotalBytes > 0 ? (master.SyncReadBytes * 100.0 / master.SyncTotalBytes).ToString("F2", CultureInfo.InvariantCulture) : "0.00");
                Field("master_sync_last_io_seconds_ago", (now - master.LastIoMs) / 1000);
            }
            if (!master.IsConnected)
                Field("master_link_down_since_seconds", master.LinkDownSinceMs < 0 ? -1 : (now - master.LinkDownSinceMs) / 1000);
            Field("slave_priority", options.SlavePriority);
            Field("slave_read_only", options.SlaveReadOnly ? 1 : 0);
            Field("replica_announced", 1);
        }
        else
        {
            Field("role", "master");
        }
        Field("connected_slaves", _replicas.Count);
        if (options.MinSlavesToWrite > 0 && options.MinSlavesMaxLag > 0)
            Field("min_slaves_good_slaves", State.GoodReplicaCount);
        for (int i = 0; i < _replicas.Count; i++)
            Field("slave" + i, _replicas[i].InfoLine(stream, nowTicks));
        Field("master_failover_state", "no-failover");
        Field("master_replid", ReplId);
        Field("master_replid2", ReplId2);
        Field("master_repl_offset", stream.MasterReplOffset);
        Field("second_repl_offset", SecondReplOffset);
        var backlog = stream.Backlog;
        Field("repl_backlog_active", backlog is null ? 0 : 1);
        Field("repl_backlog_size", options.ReplBacklogSize);
        Field("repl_backlog_first_byte_offset", backlog?.FirstByteOffset ?? 0);
        Field("repl_backlog_histlen", backlog?.HistoryLength ?? 0);
    }

    /// <summary>
    /// The point an RDB written now should record so that this server can continue its history after a
    /// restart (Redis 4.0+: repl-stream-db, repl-id, repl-offset); null when there is no history to keep.
    /// </summary>
    public ReplicationPoint? PointToSave()
    {
        bool hasHistory = MasterLink is not null || Stream.Backlog is not null;
        if (!hasHistory)
            return null;
        // A replica records the database its master's stream is in; a master, its own stream's.
        int db = MasterLink?.StreamDb ?? Math.Max(0, Stream.StreamDb);
        return new ReplicationPoint(ReplId, Stream.MasterReplOffset, db);
    }

    /// <inheritdoc/>
    public ReplicationPoint CurrentPoint()
    {
        int db = MasterLink is { } link ? link.StreamDb : Stream.StreamDb;
        return new ReplicationPoint(ReplId, Stream.MasterReplOffset, db);
    }

    /// <summary>
    /// At startup, after loading an RDB that carried repl-id, repl-offset and repl-stream-db: a replica
    /// resumes that history with PSYNC; a master keeps it as its secondary id, with a backlog that starts
    /// where the RDB ends, so its former replicas can continue (Redis 7.0's loadDataFromDisk).
    /// </summary>
    /// <remarks>A file without a trustworthy point (<see cref="ReplicationPoint.FromAux"/>) is never passed here.</remarks>
    public void Restore(ReplicationPoint point)
    {
        var (replId, offset, db) = point;
        Stream.MasterReplOffset = offset;
        if (Options.SlaveOf is not null)
        {
            ReplId = replId;
            ClearReplicationId2();
            _restoredCache = new CachedMaster(replId, offset, db);
        }
        else
        {
            // The dump holds exactly the dataset at its offset: a replica that stopped there (a SAVE or a
            // SHUTDOWN with nothing written after it) continues from the backlog, which begins empty at the
            // next byte. One that got later writes, lost with this process, asks for more than
            // SecondReplOffset and syncs fully. Our own id stays the new one drawn at startup.
            ReplId2 = replId;
            SecondReplOffset = offset + 1;
            Stream.Backlog = NewBacklog(offset + 1);
            Stream.ResetStreamDb();
            _noReplicasSinceMs = Environment.TickCount64;
        }
        Log.Notice("Restored replication state from " + (Options.AppendOnly ? "the append only file" : "the RDB") + ": replid " + replId + ", offset " + offset);
    }

    private CachedMaster? _restoredCache;
}
