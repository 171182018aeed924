using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Persistence;
using Psyncd.Protocol;
using Psyncd.PubSub;
using Psyncd.Replication;
using Psyncd.Scripting;
using Psyncd.Storage;

namespace Psyncd.Admin;

/// <summary>
/// INFO [section ...]: redis-server's report, with its section and field names. Every value is read from
/// the state object the server itself uses (stats, keyspace, replication stream, command table).
/// </summary>
internal sealed class InfoCommand
{
    private readonly ScriptingEngine _scripting;
    private readonly ServerOptions _options;
    private readonly ServerIdentity _identity;
    private readonly ClientRegistry _clients;
    private readonly MemoryMonitor _memory;
    private readonly DatasetState _dataset;
    private readonly RdbPersistence _persistence;
    private readonly AppendOnlyFile _aof;
    private readonly ServerStats _stats;
    private readonly Keyspace _keyspace;
    private readonly CommandLoop _loop;
    private readonly PubSubRegistry _pubSub;
    private readonly ReplicationManager _replication;
    private readonly ReplicationStream _stream;
    private readonly CommandTable _table;

    private readonly MemoryEviction _eviction;

    public InfoCommand(ServerOptions options, ServerIdentity identity, ClientRegistry clients, MemoryMonitor memory, DatasetState dataset, RdbPersistence persistence, AppendOnlyFile aof, ServerStats stats, Keyspace keyspace, CommandLoop loop, PubSubRegistry pubSub, ReplicationManager replication, ReplicationStream stream, CommandTable table, ScriptingEngine scripting, MemoryEviction eviction)
    {
        _scripting = scripting;
        _eviction = eviction;
        _options = options;
        _identity = identity;
        _clients = clients;
        _memory = memory;
        _dataset = dataset;
        _persistence = persistence;
        _aof = aof;
        _stats = stats;
        _keyspace = keyspace;
        _loop = loop;
        _pubSub = pubSub;
        _replication = replication;
        _stream = stream;
        _table = table;
    }

    private static readonly string[] s_defaultSections = { "server", "clients", "memory", "persistence", "stats", "replication", "cpu", "cluster", "keyspace" };
    private static readonly string[] s_allSections = { "server", "clients", "memory", "persistence", "stats", "replication", "cpu", "commandstats", "cluster", "keyspace" };

    public void Register(CommandTable table)
    {
        table.Add("info", -1, CommandFlags.ReadOnly | CommandFlags.Random | CommandFlags.Loading | CommandFlags.Stale, Info);
    }

    private void Info(CommandContext ctx, in CommandArgs args)
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
        ctx.Reply.WriteVerbatim(Build(ctx.Client, wanted));
    }

    /// <summary>The report for the given sections, in redis-server's order; unknown names add nothing.</summary>
    public string Build(Client caller, IReadOnlyCollection<string> sections)
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
                case "server": Server(sb); break;
                case "clients": Clients(sb); break;
                case "memory": Memory(sb); break;
                case "persistence": Persistence(sb); break;
                case "stats": Stats(sb); break;
                case "replication": Replication(sb); break;
                case "cpu": Cpu(sb); break;
                case "commandstats": CommandStats(sb); break;
                case "cluster": sb.Append("# Cluster\r\ncluster_enabled:0\r\n"); break;
                case "keyspace": Keyspace(sb); break;
            }
        }
        // psyncd's own section, only when named (INFO's default and all keep redis-server's fields): the event loop's
        // polls before it sleeps, and those that found events (docs/performance.md, "Polling only where it pays").
        if (sections.Contains("eventloop"))
        {
            if (sb.Length > 0)
                sb.Append("\r\n");
            sb.Append("# Eventloop\r\n");
            Line(sb, "event_loop_polls", _stats.EventLoopPolls);
            Line(sb, "event_loop_poll_hits", _stats.EventLoopPollHits);
        }
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, string name, string value) => sb.Append(name).Append(':').Append(value).Append("\r\n");

    private static void Line(StringBuilder sb, string name, long value) => Line(sb, name, value.ToString(CultureInfo.InvariantCulture));

    private static string F2(double value) => value.ToString("F2", CultureInfo.InvariantCulture);

    private void Server(StringBuilder sb)
    {
        var options = _options;
        long uptime = (Environment.TickCount64 - _identity.StartedAtMs) / 1000;
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
        Line(sb, "run_id", _identity.RunId);
        Line(sb, "tcp_port", _identity.BoundPort != 0 ? _identity.BoundPort : options.Port);
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

    private void Clients(StringBuilder sb)
    {
        int connected = 0;
        int blocked = 0;
        long maxInput = 0;
        long maxOutput = 0;
        foreach (var client in _clients.Clients.Values)
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
        Line(sb, "maxclients", _options.MaxClients);
        Line(sb, "client_recent_max_input_buffer", maxInput);
        Line(sb, "client_recent_max_output_buffer", maxOutput);
        Line(sb, "blocked_clients", blocked);
        Line(sb, "tracking_clients", 0);
    }

    private void Memory(StringBuilder sb)
    {
        var options = _options;
        var keyspace = _keyspace;
        long used = _memory.SampleUsedMemory();
        long peak = Math.Max(_memory.UsedMemoryPeak, used);
        long rss = MemoryMonitor.ResidentSetBytes();
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
        // Redis 7.0's scripting lines: psyncd has EVAL scripts only (no FUNCTION), so the functions' are 0.
        long lua = _scripting.LuaMemory;
        long scripts = _scripting.ScriptsMemory;
        Line(sb, "used_memory_lua", lua);
        Line(sb, "used_memory_vm_eval", lua);
        Line(sb, "used_memory_lua_human", HumanBytes(lua));
        Line(sb, "used_memory_scripts_eval", scripts);
        Line(sb, "number_of_cached_scripts", _scripting.CachedScripts);
        Line(sb, "number_of_functions", 0);
        Line(sb, "number_of_libraries", 0);
        Line(sb, "used_memory_vm_functions", 0);
        Line(sb, "used_memory_vm_total", lua);
        Line(sb, "used_memory_vm_total_human", HumanBytes(lua));
        Line(sb, "used_memory_functions", 0);
        Line(sb, "used_memory_scripts", scripts);
        Line(sb, "used_memory_scripts_human", HumanBytes(scripts));
        Line(sb, "maxmemory", options.MaxMemory);
        Line(sb, "maxmemory_human", HumanBytes(options.MaxMemory));
        Line(sb, "maxmemory_policy", ConfigRegistry.FormatPolicy(options.MaxMemoryPolicy));
        Line(sb, "mem_fragmentation_ratio", F2(used == 0 ? 0 : (double)rss / used));
        Line(sb, "mem_fragmentation_bytes", rss - used);
        Line(sb, "mem_not_counted_for_evict", _eviction.NotCounted());
        Line(sb, "mem_replication_backlog", _stream.Backlog?.Size ?? 0);
        Line(sb, "mem_allocator", "dotnet-gc");
        Line(sb, "store_log_bytes", keyspace.LogBytes);
        Line(sb, "store_log_capacity", keyspace.LogCapacity);
        Line(sb, "store_garbage_bytes", keyspace.GarbageBytes);
        Line(sb, "store_index_bytes", keyspace.IndexBytes);
        Line(sb, "store_heap_objects", keyspace.HeapObjects);
        Line(sb, "store_compactions", keyspace.Compactions);
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

    private void Persistence(StringBuilder sb)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        sb.Append("# Persistence\r\n");
        Line(sb, "loading", _dataset.Loading ? 1 : 0);
        Line(sb, "async_loading", 0);
        Line(sb, "current_save_keys_processed", _keyspace.SnapshotKeysWritten);
        Line(sb, "current_save_keys_total", _persistence.BgsaveInProgress ? TotalKeys() : 0);
        Line(sb, "rdb_changes_since_last_save", _keyspace.Dirty - _persistence.DirtyAtLastSave);
        Line(sb, "rdb_bgsave_in_progress", _persistence.BgsaveInProgress ? 1 : 0);
        Line(sb, "rdb_last_save_time", _persistence.LastSaveTime);
        Line(sb, "rdb_last_bgsave_status", _persistence.LastBgsaveStatusOk ? "ok" : "err");
        Line(sb, "rdb_last_bgsave_time_sec", _persistence.LastBgsaveDurationSeconds);
        Line(sb, "rdb_current_bgsave_time_sec", _persistence.BgsaveInProgress && _persistence.BgsaveStartedAt >= 0 ? now - _persistence.BgsaveStartedAt : -1);
        var aof = _aof;
        Line(sb, "aof_enabled", aof.IsOn ? 1 : 0);
        Line(sb, "aof_rewrite_in_progress", aof.RewriteInProgress ? 1 : 0);
        Line(sb, "aof_rewrite_scheduled", aof.RewriteScheduled ? 1 : 0);
        Line(sb, "aof_last_rewrite_time_sec", aof.LastRewriteDurationSec);
        Line(sb, "aof_current_rewrite_time_sec", aof.CurrentRewriteDurationSec);
        Line(sb, "aof_last_bgrewrite_status", aof.LastRewriteOk ? "ok" : "err");
        Line(sb, "aof_rewrites", aof.Rewrites);
        Line(sb, "aof_rewrites_consecutive_failures", aof.RewriteFailuresInARow);
        Line(sb, "aof_last_write_status", aof.LastWriteOk ? "ok" : "err");
        // No fork, so no copy-on-write: zeros where redis-server 7.0 reports its child's.
        Line(sb, "aof_last_cow_size", 0);
        Line(sb, "module_fork_in_progress", 0);
        Line(sb, "module_fork_last_cow_size", 0);
        if (aof.IsOn)
        {
            Line(sb, "aof_current_size", aof.CurrentSize);
            Line(sb, "aof_base_size", aof.BaseSize);
            Line(sb, "aof_pending_rewrite", aof.RewriteScheduled ? 1 : 0);
            Line(sb, "aof_buffer_length", aof.BufferLength);
            Line(sb, "aof_pending_bio_fsync", aof.FsyncPending ? 1 : 0);
            Line(sb, "aof_delayed_fsync", 0);
            // psyncd's own: what the log holds for PSYNC from disk.
            Line(sb, "repl_log_files", aof.FilesCount);
            Line(sb, "repl_log_size", aof.StreamBytesHeld);
            Line(sb, "repl_log_first_byte_offset", aof.FirstStreamOffset);
        }
    }

    private long TotalKeys()
    {
        long total = 0;
        for (int db = 0; db < _keyspace.DatabaseCount; db++)
            total += _keyspace.KeyCount(db);
        return total;
    }

    private void Stats(StringBuilder sb)
    {
        var stats = _stats;
        var keyspace = _keyspace;
        sb.Append("# Stats\r\n");
        Line(sb, "total_connections_received", stats.TotalConnectionsReceived);
        Line(sb, "total_commands_processed", stats.TotalCommandsProcessed);
        Line(sb, "instantaneous_ops_per_sec", (long)Math.Round(stats.InstantaneousOpsPerSec));
        Line(sb, "total_net_input_bytes", stats.TotalNetInputBytes);
        Line(sb, "total_net_output_bytes", stats.TotalNetOutputBytes + _loop.OutputBytes);
        Line(sb, "rejected_connections", stats.RejectedConnections);
        Line(sb, "sync_full", stats.SyncFull);
        Line(sb, "sync_partial_ok", stats.SyncPartialOk);
        Line(sb, "sync_partial_err", stats.SyncPartialErr);
        Line(sb, "expired_keys", keyspace.ExpiredKeys);
        Line(sb, "evicted_keys", stats.EvictedKeys);
        Line(sb, "keyspace_hits", keyspace.KeyspaceHits);
        Line(sb, "keyspace_misses", keyspace.KeyspaceMisses);
        Line(sb, "pubsub_channels", _pubSub.ChannelCount);
        Line(sb, "pubsub_patterns", _pubSub.PatternCount);
        Line(sb, "latest_fork_usec", _persistence.LatestForkMicroseconds);
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

    private void CommandStats(StringBuilder sb)
    {
        sb.Append("# Commandstats\r\n");
        foreach (var cmd in _table.All)
        {
            if (cmd.Calls == 0)
                continue;
            sb.Append("cmdstat_").Append(cmd.Name).Append(":calls=").Append(cmd.Calls.ToString(CultureInfo.InvariantCulture))
              .Append(",usec=").Append(cmd.Microseconds.ToString(CultureInfo.InvariantCulture))
              .Append(",usec_per_call=").Append(F2((double)cmd.Microseconds / cmd.Calls))
              .Append("\r\n");
        }
    }

    private void Keyspace(StringBuilder sb)
    {
        var keyspace = _keyspace;
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

    /// <summary>INFO replication: written by the replication subsystem, from the state it works with.</summary>
    private void Replication(StringBuilder sb)
    {
        sb.Append("# Replication\r\n");
        _replication.AppendInfo(sb);
    }
}
