using System.Text;
using Psyncd.Server;

namespace Psyncd.Commands;

/// <summary>INFO replication: the one place its fields are written (the replication subsystem extends it here).</summary>
internal static partial class InfoCommand
{
    private static void Replication(StringBuilder sb, PsyncdServer server)
    {
        var options = server.Options;
        var stream = server.Stream;
        var backlog = stream.Backlog;
        sb.Append("# Replication\r\n");
        if (server.IsReplica)
        {
            Line(sb, "role", "slave");
            Line(sb, "master_host", options.SlaveOf!.Host);
            Line(sb, "master_port", options.SlaveOf.Port);
            Line(sb, "master_link_status", server.MasterLinkUp ? "up" : "down");
            Line(sb, "master_last_io_seconds_ago", -1);
            Line(sb, "master_sync_in_progress", 0);
            Line(sb, "slave_read_repl_offset", stream.MasterReplOffset);
            Line(sb, "slave_repl_offset", stream.MasterReplOffset);
            Line(sb, "slave_priority", options.SlavePriority);
            Line(sb, "slave_read_only", options.SlaveReadOnly ? 1 : 0);
            Line(sb, "replica_announced", 1);
        }
        else
        {
            Line(sb, "role", "master");
        }
        int replicas = 0;
        foreach (var client in server.Clients.Values)
        {
            if (client.Has(ClientFlags.Replica))
                replicas++;
        }
        Line(sb, "connected_slaves", replicas);
        if (!server.IsReplica && options.MinSlavesToWrite > 0 && options.MinSlavesMaxLag > 0)
            Line(sb, "min_slaves_good_slaves", server.GoodReplicaCount);
        Line(sb, "master_failover_state", "no-failover");
        Line(sb, "master_replid", server.ReplId);
        Line(sb, "master_replid2", server.ReplId2);
        Line(sb, "master_repl_offset", stream.MasterReplOffset);
        Line(sb, "second_repl_offset", server.SecondReplOffset);
        Line(sb, "repl_backlog_active", backlog is null ? 0 : 1);
        Line(sb, "repl_backlog_size", backlog?.Size ?? options.ReplBacklogSize);
        Line(sb, "repl_backlog_first_byte_offset", backlog?.FirstByteOffset ?? 0);
        Line(sb, "repl_backlog_histlen", backlog?.HistoryLength ?? 0);
    }
}
