using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Server;

namespace Psyncd.Commands;

/// <summary>
/// INFO [section ...]: redis-server's report, with its section and field names. Every value is read from
/// the state object the server itself uses (stats, keyspace, replication stream, command table).
/// </summary>
internal static partial class InfoCommand
{
    private static readonly string[] s_defaultSections = { "server", "clients", "memory", "persistence", "stats", "replication", "cpu", "cluster", "keyspace" };
    private static readonly string[] s_allSections = { "server", "clients", "memory", "persistence", "stats", "replication", "cpu", "commandstats", "cluster", "keyspace" };

    public static void Register(CommandTable table)
    {
        table.Add("info", -1, CommandFlags.ReadOnly | CommandFlags.Random | CommandFlags.Loading | CommandFlags.Stale, Info);
    }

    private static void Info(CommandContext ctx, in CommandArgs args)
    {
        var wanted = new List<string>();
        if (args.Count == 1)
        {
            wanted.AddRange(s_defaultSections);
        }
        else
        {
            for (int i = 1; i < args.Count; i++)
            {
                string name = Encoding.UTF8.GetString(args[i]).ToLowerInvariant();
                var expanded = name switch
                {
                    "default" => s_defaultSections,
                    "all" or "everything" => s_allSections,
                    _ => new[] { name },
                };
                foreach (var section in expanded)
                {
                    if (!wanted.Contains(section))
                        wanted.Add(section);
                }
            }
        }
        ctx.Reply.WriteBulk(Build(ctx.Server, ctx.Client, wanted));
    }

    /// <summary>The report for the given sections, in redis-server's order; unknown names add nothing.</summary>
    public static string Build(PsyncdServer server, Client caller, IReadOnlyCollection<string> sections)
    {
        var sb = new StringBuilder(2048);
        foreach (var name in s_allSections)
        {
            if (!sections.Contains(name))
                continue;
            if (sb.Length > 0)
                sb.Append("\r\n");
            switch (name)
            {
                case "server": Server(sb, server); break;
                case "clients": Clients(sb, server); break;
                case "memory": Memory(sb, server); break;
                case "persistence": Persistence(sb, server); break;
                case "stats": Stats(sb, server); break;
                case "replication": Replication(sb, server); break;
                case "cpu": Cpu(sb); break;
                case "commandstats": CommandStats(sb, server); break;
                case "cluster": sb.Append("# Cluster\r\ncluster_enabled:0\r\n"); break;
                case "keyspace": Keyspace(sb, server); break;
            }
        }
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, string name, string value) => sb.Append(name).Append(':').Append(value).Append("\r\n");

    private static void Line(StringBuilder sb, string name, long value) => Line(sb, name, value.ToString(CultureInfo.InvariantCulture));

    private static string F2(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    private static void Server(StringBuilder sb, PsyncdServer server)
    {
        var options = server.Options;
        long uptime = (Environment.TickCount64 - server.StartedAtMs) / 1000;
        var now = DateTimeOffset.UtcNow;
        sb.Append("# Server\r\n");
        Line(sb, "redis_version", ServerIdentity.RedisVersion);
        Line(sb, "redis_git_sha1", "00000000");
        Line(sb, "redis_git_dirty", "0");
        Line(sb, "redis_build_id", "0");
        Line(sb, "redis_mode", "standalone");
        Line(sb, "os", OsName());
        Line(sb, "arch_bits", Environment.Is64BitProcess ? "64" : "32");
        Line(sb, "multiplexing_api", OperatingSystem.IsLinux() ? "epoll" : "kqueue");
        Line(sb, "process_id", Environment.ProcessId);
        Line(sb, "process_supervised", "no");
        Line(sb, "run_id", server.RunId);
        Line(sb, "tcp_port", server.BoundPort != 0 ? server.BoundPort : options.Port);
        Line(sb, "server_time_usec", now.ToUnixTimeMilliseconds() * 1000 + now.Ticks / 10 % 1000);
        Line(sb, "uptime_in_seconds", uptime);
        Line(sb, "uptime_in_days", uptime / 86400);
        Line(sb, "hz", options.Hz);
        Line(sb, "configured_hz", options.Hz);
        Line(sb, "lru_clock", (now.ToUnixTimeMilliseconds() / 1000) & ((1 << 24) - 1));
        Line(sb, "executable", Environment.ProcessPath ?? "");
        Line(sb, "config_file", options.ConfigFile ?? "");
        Line(sb, "psyncd_version", ServerIdentity.Version);
    }

    private static string OsName()
    {
        string arch = RuntimeInformation.OSArchitecture switch
        {
            Architecture.X64 => "x86_64",
            Architecture.Arm64 => "aarch64",
            var other => other.ToString().ToLowerInvariant(),
        };
        string kernel = Environment.OSVersion.Version.ToString();
        try
        {
            if (File.Exists("/proc/sys/kernel/osrelease"))
                kernel = File.ReadAllText("/proc/sys/kernel/osrelease").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Keep the runtime's idea of the version.
        }
        string name = OperatingSystem.IsLinux() ? "Linux" : OperatingSystem.IsMacOS() ? "Darwin" : RuntimeInformation.OSDescription;
        return name + " " + kernel + " " + arch;
    }

    private static void Clients(StringBuilder sb, PsyncdServer server)
    {
        int connected = 0;
        int blocked = 0;
        long maxInput = 0;
        long maxOutput = 0;
        foreach (var client in server.Clients.Values)
        {
            if (client.Has(ClientFlags.Replica) || client.Has(ClientFlags.CloseAsap))
                continue; // a client being closed is already gone for Redis (see CLIENT LIST)
            connected++;
            if (client.Has(ClientFlags.Blocked))
                blocked++;
            maxInput = Math.Max(maxInput, client.QueryBufferBytes);
            maxOutput = Math.Max(maxOutput, client.Output.UnsentBytes);
        }
        sb.Append("# Clients\r\n");
        Line(sb, "connected_clients", connected);
        Line(sb, "cluster_connections", 0);
        Line(sb, "maxclients", server.Options.MaxClients);
        Line(sb, "client_recent_max_input_buffer", maxInput);
        Line(sb, "client_recent_max_output_buffer", maxOutput);
        Line(sb, "blocked_clients", blocked);
        Line(sb, "tracking_clients", 0);
    }

    private static void Memory(StringBuilder sb, PsyncdServer server)
    {
        var options = server.Options;
        var keyspace = server.Keyspace;
        long used = server.SampleUsedMemory();
        long peak = Math.Max(server.UsedMemoryPeak, used);
        long rss = ResidentSetBytes();
        long total = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        sb.Append("# Memory\r\n");
        Line(sb, "used_memory", used);
        Line(sb, "used_memory_human", HumanBytes(used));
        Line(sb, "used_memory_rss", rss);
        Line(sb, "used_memory_rss_human", HumanBytes(rss));
        Line(sb, "used_memory_peak", peak);
        Line(sb, "used_memory_peak_human", HumanBytes(peak));
        Line(sb, "used_memory_peak_perc", F2(peak == 0 ? 0 : used * 100.0 / peak) + "%");
        Line(sb, "total_system_memory", total);
        Line(sb, "total_system_memory_human", HumanBytes(total));
        Line(sb, "maxmemory", options.MaxMemory);
        Line(sb, "maxmemory_human", HumanBytes(options.MaxMemory));
        Line(sb, "maxmemory_policy", ConfigRegistry.FormatPolicy(options.MaxMemoryPolicy));
        Line(sb, "mem_fragmentation_ratio", F2(used == 0 ? 0 : (double)rss / used));
        Line(sb, "mem_fragmentation_bytes", rss - used);
        Line(sb, "mem_replication_backlog", server.Stream.Backlog?.Size ?? 0);
        Line(sb, "mem_allocator", "dotnet-gc");
        Line(sb, "store_log_bytes", keyspace.LogBytes);
        Line(sb, "store_log_capacity", keyspace.LogCapacity);
        Line(sb, "store_garbage_bytes", keyspace.GarbageBytes);
        Line(sb, "store_index_bytes", keyspace.IndexBytes);
        Line(sb, "store_heap_objects", keyspace.HeapObjects);
        Line(sb, "store_compactions", keyspace.Compactions);
    }

    /// <summary>Resident set size from /proc/self/statm (pages); falls back to the process's working set.</summary>
    private static long ResidentSetBytes()
    {
        try
        {
            string text = File.ReadAllText("/proc/self/statm");
            var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 1 && long.TryParse(fields[1], NumberStyles.None, CultureInfo.InvariantCulture, out long pages))
                return pages * Environment.SystemPageSize;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux: use what the runtime knows.
        }
        return Environment.WorkingSet;
    }

    /// <summary>redis-server's bytesToHuman: B, then K/M/G/T/P with two decimals.</summary>
    public static string HumanBytes(long bytes)
    {
        double d = bytes;
        if (bytes < 1024)
            return bytes.ToString(CultureInfo.InvariantCulture) + "B";
        string[] units = { "K", "M", "G", "T", "P" };
        for (int i = 0; i < units.Length; i++)
        {
            d /= 1024;
            if (d < 1024 || i == units.Length - 1)
                return F2(d) + units[i];
        }
        return F2(d) + "P";
    }

    private static void Persistence(StringBuilder sb, PsyncdServer server)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        sb.Append("# Persistence\r\n");
        Line(sb, "loading", server.Loading ? 1 : 0);
        Line(sb, "async_loading", 0);
        Line(sb, "current_save_keys_processed", server.Keyspace.SnapshotKeysWritten);
        Line(sb, "current_save_keys_total", server.RdbPersistence.BgsaveInProgress ? TotalKeys(server) : 0);
        Line(sb, "rdb_changes_since_last_save", server.Keyspace.Dirty - server.RdbPersistence.DirtyAtLastSave);
        Line(sb, "rdb_bgsave_in_progress", server.RdbPersistence.BgsaveInProgress ? 1 : 0);
        Line(sb, "rdb_last_save_time", server.RdbPersistence.LastSaveTime);
        Line(sb, "rdb_last_bgsave_status", server.RdbPersistence.LastBgsaveStatusOk ? "ok" : "err");
        Line(sb, "rdb_last_bgsave_time_sec", server.RdbPersistence.LastBgsaveDurationSeconds);
        Line(sb, "rdb_current_bgsave_time_sec", server.RdbPersistence.BgsaveInProgress && server.RdbPersistence.BgsaveStartedAt >= 0 ? now - server.RdbPersistence.BgsaveStartedAt : -1);
        Line(sb, "aof_enabled", 0);
        Line(sb, "aof_rewrite_in_progress", 0);
        Line(sb, "aof_rewrite_scheduled", 0);
        Line(sb, "aof_last_rewrite_time_sec", -1);
        Line(sb, "aof_current_rewrite_time_sec", -1);
        Line(sb, "aof_last_bgrewrite_status", "ok");
        Line(sb, "aof_last_write_status", "ok");
    }

    private static long TotalKeys(PsyncdServer server)
    {
        long total = 0;
        for (int db = 0; db < server.Keyspace.DatabaseCount; db++)
            total += server.Keyspace.KeyCount(db);
        return total;
    }

    private static void Stats(StringBuilder sb, PsyncdServer server)
    {
        var stats = server.Stats;
        var keyspace = server.Keyspace;
        sb.Append("# Stats\r\n");
        Line(sb, "total_connections_received", stats.TotalConnectionsReceived);
        Line(sb, "total_commands_processed", stats.TotalCommandsProcessed);
        Line(sb, "instantaneous_ops_per_sec", (long)Math.Round(stats.InstantaneousOpsPerSec));
        Line(sb, "total_net_input_bytes", stats.TotalNetInputBytes);
        Line(sb, "total_net_output_bytes", stats.TotalNetOutputBytes + server.Loop.OutputBytes);
        Line(sb, "rejected_connections", stats.RejectedConnections);
        Line(sb, "sync_full", stats.SyncFull);
        Line(sb, "sync_partial_ok", stats.SyncPartialOk);
        Line(sb, "sync_partial_err", stats.SyncPartialErr);
        Line(sb, "expired_keys", keyspace.ExpiredKeys);
        Line(sb, "evicted_keys", stats.EvictedKeys);
        Line(sb, "keyspace_hits", keyspace.KeyspaceHits);
        Line(sb, "keyspace_misses", keyspace.KeyspaceMisses);
        Line(sb, "pubsub_channels", server.PubSubRegistry.ChannelCount);
        Line(sb, "pubsub_patterns", server.PubSubRegistry.PatternCount);
        Line(sb, "latest_fork_usec", server.RdbPersistence.LatestForkMicroseconds);
        Line(sb, "total_forks", 0);
        Line(sb, "migrate_cached_sockets", 0);
    }

    private static void Cpu(StringBuilder sb)
    {
        using var process = Process.GetCurrentProcess();
        var user = process.UserProcessorTime.TotalSeconds;
        var sys = process.PrivilegedProcessorTime.TotalSeconds;
        sb.Append("# CPU\r\n");
        Line(sb, "used_cpu_sys", sys.ToString("F6", CultureInfo.InvariantCulture));
        Line(sb, "used_cpu_user", user.ToString("F6", CultureInfo.InvariantCulture));
        Line(sb, "used_cpu_sys_children", "0.000000");
        Line(sb, "used_cpu_user_children", "0.000000");
    }

    private static void CommandStats(StringBuilder sb, PsyncdServer server)
    {
        sb.Append("# Commandstats\r\n");
        foreach (var cmd in server.Commands.All)
        {
            if (cmd.Calls == 0)
                continue;
            sb.Append("cmdstat_").Append(cmd.Name).Append(":calls=").Append(cmd.Calls.ToString(CultureInfo.InvariantCulture))
              .Append(",usec=").Append(cmd.Microseconds.ToString(CultureInfo.InvariantCulture))
              .Append(",usec_per_call=").Append(F2((double)cmd.Microseconds / cmd.Calls))
              .Append("\r\n");
        }
    }

    private static void Keyspace(StringBuilder sb, PsyncdServer server)
    {
        var keyspace = server.Keyspace;
        sb.Append("# Keyspace\r\n");
        for (int db = 0; db < keyspace.DatabaseCount; db++)
        {
            long keys = keyspace.KeyCount(db);
            if (keys == 0)
                continue;
            sb.Append("db").Append(db.ToString(CultureInfo.InvariantCulture)).Append(":keys=").Append(keys.ToString(CultureInfo.InvariantCulture))
              .Append(",expires=").Append(keyspace.ExpiresCount(db).ToString(CultureInfo.InvariantCulture))
              .Append(",avg_ttl=").Append(keyspace.AverageTtl(db).ToString(CultureInfo.InvariantCulture)).Append("\r\n");
        }
    }
}
