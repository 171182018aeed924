using System.Globalization;

namespace Psyncd.Config;

/// <summary>
/// Every directive psyncd understands, by name. The config file parser, the command line, CONFIG GET,
/// CONFIG SET and CONFIG REWRITE all use this one table, so a directive behaves the same everywhere.
/// Messages of <see cref="ConfigException"/> are redis-server's (config.c).
/// </summary>
public static class ConfigRegistry
{
    private static readonly Dictionary<string, ConfigDirective> s_byName = new(StringComparer.OrdinalIgnoreCase);
    private static readonly List<ConfigDirective> s_all = new();

    /// <summary>Directives psyncd accepts for compatibility with redis.conf files but that have no effect here.</summary>
    private static readonly HashSet<string> s_ignored = new(StringComparer.OrdinalIgnoreCase)
    {
        "activerehashing", "aof-rewrite-incremental-fsync",
        "syslog-ident", "syslog-facility", "no-appendfsync-on-rewrite", "watchdog-period",
    };

    static ConfigRegistry()
    {
        // ---- General ----
        Add(new("daemonize", (o, a) => o.Daemonize = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.Daemonize), mutable: false));
        Add(new("pidfile", (o, a) => o.PidFile = a[0], o => o.PidFile, mutable: false));
        Add(new("loglevel", (o, a) => o.LogLevel = ParseLogLevel(a[0]), o => o.LogLevel.ToString().ToLowerInvariant()));
        Add(new("logfile", (o, a) => o.LogFile = a[0], o => o.LogFile, mutable: false));
        Add(new("always-show-logo", (o, a) => o.AlwaysShowLogo = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.AlwaysShowLogo), mutable: false));
        Add(new("databases", (o, a) => o.Databases = ConfigValues.ParseInt(a[0], 1, 256, "Invalid number of databases"), o => Fmt(o.Databases), mutable: false));
        Add(new("syslog-enabled", (o, a) =>
        {
            if (ConfigValues.ParseBool(a[0]))
                throw new ConfigException("syslog is not supported by psyncd: use logfile");
        }, o => "no", mutable: false));

        // ---- Network ----
        Add(new("bind", (o, a) =>
        {
            if (a.Length > 16)
                throw new ConfigException("Too many bind addresses specified.");
            o.Bind = a.ToList();
        }, o => string.Join(' ', o.Bind), minArgs: 1, maxArgs: -1, mutable: false)
        {
            RewriteLines = o => o.Bind.Count == 0 ? Array.Empty<string>() : new[] { "bind " + string.Join(' ', o.Bind) },
        });
        Add(new("port", (o, a) => o.Port = ConfigValues.ParseInt(a[0], 0, 65535, "Invalid port"), o => Fmt(o.Port), mutable: false));
        Add(new("tcp-backlog", (o, a) => o.TcpBacklog = ConfigValues.ParseInt(a[0], 0, int.MaxValue, "Invalid backlog value"), o => Fmt(o.TcpBacklog), mutable: false));
        Add(new("unixsocket", (o, a) => o.UnixSocket = a[0], o => o.UnixSocket, mutable: false));
        Add(new("unixsocketperm", (o, a) =>
        {
            try
            {
                o.UnixSocketPerm = Convert.ToInt32(a[0], 8);
            }
            catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
            {
                throw new ConfigException("argument couldn't be parsed as an octal number");
            }
            if (o.UnixSocketPerm > 0x1FF || o.UnixSocketPerm < 0)
                throw new ConfigException("Invalid socket file permissions");
        }, o => Convert.ToString(o.UnixSocketPerm, 8), mutable: false));
        Add(new("timeout", (o, a) => o.Timeout = ConfigValues.ParseLong(a[0], 0, int.MaxValue, "Invalid timeout value"), o => Fmt(o.Timeout)));
        Add(new("tcp-keepalive", (o, a) => o.TcpKeepalive = ConfigValues.ParseInt(a[0], 0, int.MaxValue, "Invalid tcp-keepalive value"), o => Fmt(o.TcpKeepalive)));
        Add(new("maxclients", (o, a) => o.MaxClients = ConfigValues.ParseInt(a[0], 1, int.MaxValue, "Invalid max clients limit"), o => Fmt(o.MaxClients)));

        // ---- Snapshotting ----
        Add(new("save", ApplySave, o => string.Join(' ', o.Save.Select(p => Fmt(p.Seconds) + " " + Fmt(p.Changes))), minArgs: 1, maxArgs: -1)
        {
            Repeatable = true,
            RewriteLines = o => o.Save.Count == 0
                ? new[] { "save \"\"" }
                : o.Save.Select(p => "save " + Fmt(p.Seconds) + " " + Fmt(p.Changes)),
        });
        Add(new("stop-writes-on-bgsave-error", (o, a) => o.StopWritesOnBgsaveError = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.StopWritesOnBgsaveError)));
        Add(new("rdbcompression", (o, a) => o.RdbCompression = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.RdbCompression)));
        Add(new("rdbchecksum", (o, a) => o.RdbChecksum = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.RdbChecksum)));
        Add(new("dbfilename", (o, a) =>
        {
            if (a[0].Contains('/'))
                throw new ConfigException("dbfilename can't be a path, just a filename");
            o.DbFilename = a[0];
        }, o => o.DbFilename) { Protected = true });
        Add(new("dir", (o, a) =>
        {
            var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(a[0]));
            if (!Directory.Exists(full))
                throw new ConfigException("No such file or directory");
            o.Dir = full;
        }, o => o.Dir) { Protected = true });

        // ---- Replication ----
        Add(new("slaveof", (o, a) =>
        {
            if (a[0].Equals("no", StringComparison.OrdinalIgnoreCase) && a[1].Equals("one", StringComparison.OrdinalIgnoreCase))
            {
                o.SlaveOf = null;
                return;
            }
            o.SlaveOf = new MasterAddress(a[0], ConfigValues.ParseInt(a[1], 1, 65535, "Invalid master port"));
        }, o => o.SlaveOf is null ? "" : o.SlaveOf.Host + " " + Fmt(o.SlaveOf.Port), minArgs: 2, maxArgs: 2, mutable: false, aliases: new[] { "replicaof" })
        {
            RewriteLines = o => o.SlaveOf is null ? Array.Empty<string>() : new[] { "replicaof " + o.SlaveOf.Host + " " + Fmt(o.SlaveOf.Port) },
        });
        Add(new("masterauth", (o, a) => o.MasterAuth = a[0], o => o.MasterAuth));
        Add(new("slave-serve-stale-data", (o, a) => o.SlaveServeStaleData = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.SlaveServeStaleData), aliases: new[] { "replica-serve-stale-data" }));
        Add(new("slave-read-only", (o, a) => o.SlaveReadOnly = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.SlaveReadOnly), aliases: new[] { "replica-read-only" }));
        Add(new("repl-diskless-sync", (o, a) => o.ReplDisklessSync = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.ReplDisklessSync)));
        Add(new("repl-diskless-sync-delay", (o, a) => o.ReplDisklessSyncDelay = ConfigValues.ParseInt(a[0], 0, int.MaxValue, "repl-diskless-sync-delay can't be negative"), o => Fmt(o.ReplDisklessSyncDelay)));
        Add(new("repl-ping-slave-period", (o, a) => o.ReplPingSlavePeriod = ConfigValues.ParseInt(a[0], 1, int.MaxValue, "repl-ping-slave-period must be 1 or greater"), o => Fmt(o.ReplPingSlavePeriod), aliases: new[] { "repl-ping-replica-period" }));
        Add(new("repl-timeout", (o, a) => o.ReplTimeout = ConfigValues.ParseInt(a[0], 1, int.MaxValue, "repl-timeout must be 1 or greater"), o => Fmt(o.ReplTimeout)));
        Add(new("repl-disable-tcp-nodelay", (o, a) => o.ReplDisableTcpNodelay = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.ReplDisableTcpNodelay)));
        Add(new("repl-backlog-size", (o, a) =>
        {
            long size = ConfigValues.ParseMemory(a[0]);
            if (size < 1)
                throw new ConfigException("repl-backlog-size must be 1 or greater.");
            o.ReplBacklogSize = size;
        }, o => Fmt(o.ReplBacklogSize)));
        Add(new("repl-backlog-ttl", (o, a) => o.ReplBacklogTtl = ConfigValues.ParseLong(a[0], 0, long.MaxValue, "repl-backlog-ttl can't be negative "), o => Fmt(o.ReplBacklogTtl)));
        Add(new("slave-priority", (o, a) => o.SlavePriority = ConfigValues.ParseInt(a[0], 0, int.MaxValue, "Invalid slave priority"), o => Fmt(o.SlavePriority), aliases: new[] { "replica-priority" }));
        Add(new("min-slaves-to-write", (o, a) => o.MinSlavesToWrite = ConfigValues.ParseInt(a[0], 0, int.MaxValue, "Invalid value for min-slaves-to-write."), o => Fmt(o.MinSlavesToWrite), aliases: new[] { "min-replicas-to-write" }));
        Add(new("min-slaves-max-lag", (o, a) => o.MinSlavesMaxLag = ConfigValues.ParseInt(a[0], 0, int.MaxValue, "Invalid value for min-slaves-max-lag."), o => Fmt(o.MinSlavesMaxLag), aliases: new[] { "min-replicas-max-lag" }));
        Add(new("slave-announce-ip", (o, a) => o.SlaveAnnounceIp = a[0], o => o.SlaveAnnounceIp, aliases: new[] { "replica-announce-ip" }));
        Add(new("slave-announce-port", (o, a) => o.SlaveAnnouncePort = ConfigValues.ParseInt(a[0], 0, 65535, "Invalid port"), o => Fmt(o.SlaveAnnouncePort), aliases: new[] { "replica-announce-port" }));

        // ---- Security ----
        Add(new("requirepass", (o, a) =>
        {
            if (a[0].Length > 512)
                throw new ConfigException("Password is longer than REDIS_AUTHPASS_MAX_LEN");
            o.RequirePass = a[0];
        }, o => o.RequirePass));
        Add(new("protected-mode", (o, a) => o.ProtectedMode = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.ProtectedMode)));
        Add(new("enable-debug-command", (o, a) => o.EnableDebugCommand = ParseProtectedAccess(a[0]), o => FormatProtectedAccess(o.EnableDebugCommand), mutable: false));
        Add(new("enable-protected-configs", (o, a) => o.EnableProtectedConfigs = ParseProtectedAccess(a[0]), o => FormatProtectedAccess(o.EnableProtectedConfigs), mutable: false));
        Add(new("rename-command", (o, a) => o.RenamedCommands.Add((a[0].ToLowerInvariant(), a[1])), o => "", minArgs: 2, maxArgs: 2, mutable: false)
        {
            Repeatable = true,
            RewriteLines = o => o.RenamedCommands.Select(r => "rename-command " + r.From + " " + ConfigValues.QuoteIfNeeded(r.To)),
        });

        // ---- Limits ----
        Add(new("maxmemory", (o, a) => o.MaxMemory = ConfigValues.ParseMemory(a[0]), o => Fmt(o.MaxMemory)));
        Add(new("maxmemory-policy", (o, a) => o.MaxMemoryPolicy = ParsePolicy(a[0]), o => FormatPolicy(o.MaxMemoryPolicy)));
        Add(new("maxmemory-samples", (o, a) => o.MaxMemorySamples = ConfigValues.ParseInt(a[0], 1, int.MaxValue, "maxmemory-samples must be 1 or greater"), o => Fmt(o.MaxMemorySamples)));
        Add(new("maxmemory-eviction-tenacity", (o, a) => o.MaxMemoryEvictionTenacity = ConfigValues.ParseInt(a[0], 0, 100), o => Fmt(o.MaxMemoryEvictionTenacity)));
        Add(new("lfu-log-factor", (o, a) => o.LfuLogFactor = ConfigValues.ParseInt(a[0], 0, int.MaxValue), o => Fmt(o.LfuLogFactor)));
        Add(new("lfu-decay-time", (o, a) => o.LfuDecayTime = ConfigValues.ParseInt(a[0], 0, int.MaxValue), o => Fmt(o.LfuDecayTime)));
        Add(new("replica-ignore-maxmemory", (o, a) => o.ReplicaIgnoreMaxMemory = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.ReplicaIgnoreMaxMemory),
            aliases: new[] { "slave-ignore-maxmemory" }));

        // ---- Append only file (the durable replication log) ----
        Add(new("appendonly", (o, a) => o.AppendOnly = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.AppendOnly)));
        Add(new("appendfilename", (o, a) =>
        {
            if (a[0].Contains('/'))
                throw new ConfigException("appendfilename can't be a path, just a filename");
            o.AppendFilename = a[0];
        }, o => o.AppendFilename, mutable: false));
        Add(new("appenddirname", (o, a) =>
        {
            if (a[0].Contains('/'))
                throw new ConfigException("appenddirname can't be a path, just a dirname");
            o.AppendDirname = a[0];
        }, o => o.AppendDirname, mutable: false));
        Add(new("appendfsync", (o, a) => o.AppendFsync = a[0].ToLowerInvariant() switch
        {
            "always" => AppendFsync.Always,
            "everysec" => AppendFsync.EverySec,
            "no" => AppendFsync.No,
            _ => throw new ConfigException("argument(s) must be one of the following: everysec, always, no"),
        }, o => o.AppendFsync switch { AppendFsync.Always => "always", AppendFsync.No => "no", _ => "everysec" }));
        Add(new("aof-load-truncated", (o, a) => o.AofLoadTruncated = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.AofLoadTruncated)));
        Add(new("aof-use-rdb-preamble", (o, a) => o.AofUseRdbPreamble = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.AofUseRdbPreamble)));
        Add(new("auto-aof-rewrite-percentage", (o, a) => o.AutoAofRewritePercentage = ConfigValues.ParseInt(a[0], 0, int.MaxValue, "argument must be between 0 and 2147483647 inclusive"), o => Fmt(o.AutoAofRewritePercentage)));
        Add(new("auto-aof-rewrite-min-size", (o, a) => o.AutoAofRewriteMinSize = ConfigValues.ParseMemory(a[0]), o => Fmt(o.AutoAofRewriteMinSize)));
        Add(new("repl-log-retention-size", (o, a) => o.ReplLogRetentionSize = ConfigValues.ParseMemory(a[0]), o => Fmt(o.ReplLogRetentionSize)));
        Add(new("repl-log-retention-files", (o, a) => o.ReplLogRetentionFiles = ConfigValues.ParseInt(a[0], 0, int.MaxValue, "repl-log-retention-files can't be negative"), o => Fmt(o.ReplLogRetentionFiles)));
        Add(new("repl-log-max-replay-percentage", (o, a) => o.ReplLogMaxReplayPercentage = ConfigValues.ParseInt(a[0], 0, int.MaxValue, "argument must be between 0 and 2147483647 inclusive"), o => Fmt(o.ReplLogMaxReplayPercentage)));

        // ---- Lua scripting ----
        // Redis 7.0 calls it busy-reply-threshold and keeps lua-time-limit as its alias: one value, two names.
        Add(new("lua-time-limit", (o, a) => o.LuaTimeLimit = ConfigValues.ParseLong(a[0], 0, long.MaxValue), o => Fmt(o.LuaTimeLimit), aliases: new[] { "busy-reply-threshold" }));

        // ---- Slow log ----
        Add(new("slowlog-log-slower-than", (o, a) => o.SlowlogLogSlowerThan = ConfigValues.ParseLong(a[0]), o => Fmt(o.SlowlogLogSlowerThan)));
        Add(new("slowlog-max-len", (o, a) => o.SlowlogMaxLen = ConfigValues.ParseLong(a[0], 0, long.MaxValue), o => Fmt(o.SlowlogMaxLen)));
        Add(new("latency-tracking", (o, a) => o.LatencyTracking = ConfigValues.ParseBool(a[0]), o => ConfigValues.FormatBool(o.LatencyTracking)));
        Add(new("latency-monitor-threshold", (o, a) => o.LatencyMonitorThreshold = ConfigValues.ParseLong(a[0], 0, long.MaxValue), o => Fmt(o.LatencyMonitorThreshold)));

        // ---- Events ----
        Add(new("notify-keyspace-events", (o, a) =>
        {
            if (!KeyspaceEventClasses.TryParse(a[0], out var classes))
                throw new ConfigException("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
            o.NotifyKeyspaceEvents = classes;
        }, o => KeyspaceEventClasses.Format(o.NotifyKeyspaceEvents)));

        // ---- Encodings ----
        AddLong("hash-max-ziplist-entries", o => o.HashMaxZiplistEntries, (o, v) => o.HashMaxZiplistEntries = v, "hash-max-listpack-entries");
        AddLong("hash-max-ziplist-value", o => o.HashMaxZiplistValue, (o, v) => o.HashMaxZiplistValue = v, "hash-max-listpack-value");
        AddLong("list-max-ziplist-entries", o => o.ListMaxZiplistEntries, (o, v) => o.ListMaxZiplistEntries = v);
        AddLong("list-max-ziplist-value", o => o.ListMaxZiplistValue, (o, v) => o.ListMaxZiplistValue = v);
        AddLong("set-max-intset-entries", o => o.SetMaxIntsetEntries, (o, v) => o.SetMaxIntsetEntries = v);
        AddLong("zset-max-ziplist-entries", o => o.ZsetMaxZiplistEntries, (o, v) => o.ZsetMaxZiplistEntries = v, "zset-max-listpack-entries");
        AddLong("zset-max-ziplist-value", o => o.ZsetMaxZiplistValue, (o, v) => o.ZsetMaxZiplistValue = v, "zset-max-listpack-value");
        Add(new("hll-sparse-max-bytes", (o, a) => o.HllSparseMaxBytes = ConfigValues.ParseMemory(a[0], 0, long.MaxValue), o => Fmt(o.HllSparseMaxBytes)));

        // ---- Clients ----
        Add(new("client-output-buffer-limit", ApplyOutputLimit, FormatOutputLimits, minArgs: 4, maxArgs: -1)
        {
            Repeatable = true,
            RewriteLines = o => new[]
            {
                "client-output-buffer-limit normal " + FormatLimit(o.NormalOutputLimit),
                "client-output-buffer-limit slave " + FormatLimit(o.ReplicaOutputLimit),
                "client-output-buffer-limit pubsub " + FormatLimit(o.PubSubOutputLimit),
            },
        });
        // Redis 7's bounds: at least 1mb each (a smaller limit would refuse ordinary requests).
        Add(new("client-query-buffer-limit", (o, a) => o.ClientQueryBufferLimit = ConfigValues.ParseMemory(a[0], 1024 * 1024, long.MaxValue), o => Fmt(o.ClientQueryBufferLimit)));
        Add(new("proto-max-bulk-len", (o, a) => o.ProtoMaxBulkLen = ConfigValues.ParseMemory(a[0], 1024 * 1024, long.MaxValue), o => Fmt(o.ProtoMaxBulkLen)));
        Add(new("event-loop-poll-us", (o, a) => o.EventLoopPollUs = ConfigValues.ParseInt(a[0], 0, 1000, "argument must be between 0 and 1000 inclusive"), o => Fmt(o.EventLoopPollUs)));
        Add(new("hz", (o, a) => o.Hz = Math.Clamp(ConfigValues.ParseInt(a[0], int.MinValue, int.MaxValue, "Invalid hz value"), 1, 500), o => Fmt(o.Hz)));

        // ---- Store (psyncd) ----
        Add(new("store-log-memory", (o, a) =>
        {
            long bytes = ConfigValues.ParseMemory(a[0]);
            if (bytes != 0 && bytes < 4 * o.StoreLogPageSize)
                throw new ConfigException("store-log-memory must be 0 (automatic) or at least four log pages");
            o.StoreLogMemory = bytes;
        }, o => Fmt(o.StoreLogMemory), mutable: false));
        Add(new("store-log-page-size", (o, a) =>
        {
            long bytes = ConfigValues.ParseMemory(a[0]);
            if (bytes < 64 * 1024 || bytes > 1L << 30 || (bytes & (bytes - 1)) != 0)
                throw new ConfigException("store-log-page-size must be a power of two between 64kb and 1gb");
            o.StoreLogPageSize = bytes;
        }, o => Fmt(o.StoreLogPageSize), mutable: false));
        Add(new("store-index-size", (o, a) =>
        {
            long bytes = ConfigValues.ParseMemory(a[0]);
            if (bytes < 64 * 1024 || (bytes & (bytes - 1)) != 0)
                throw new ConfigException("store-index-size must be a power of two of at least 64kb");
            o.StoreIndexSize = bytes;
        }, o => Fmt(o.StoreIndexSize), mutable: false));

        foreach (var name in s_ignored)
        {
            Add(new(name, (o, a) =>
            {
                if (!o.IgnoredDirectives.Contains(name))
                    o.IgnoredDirectives.Add(name);
            }, o => "", maxArgs: -1, mutable: true));
        }
    }

    /// <summary>Every directive, in definition order.</summary>
    public static IReadOnlyList<ConfigDirective> All => s_all;

    /// <summary>Finds a directive by name or alias, case-insensitively.</summary>
    public static ConfigDirective? Find(string name) => s_byName.GetValueOrDefault(name);

    /// <summary>True for directives accepted only for compatibility (they have no effect in psyncd).</summary>
    public static bool IsIgnored(string name) => s_ignored.Contains(name);

    private static void Add(ConfigDirective directive)
    {
        s_all.Add(directive);
        s_byName[directive.Name] = directive;
        foreach (var alias in directive.Aliases)
            s_byName[alias] = directive;
    }

    private static void AddLong(string name, Func<ServerOptions, long> get, Action<ServerOptions, long> set, string? alias = null)
        => Add(new(name, (o, a) => set(o, ConfigValues.ParseMemory(a[0])), o => Fmt(get(o)), aliases: alias is null ? null : new[] { alias }));

    private static string Fmt(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static LogLevel ParseLogLevel(string text) => text.ToLowerInvariant() switch
    {
        "debug" => LogLevel.Debug,
        "verbose" => LogLevel.Verbose,
        "notice" => LogLevel.Notice,
        "warning" => LogLevel.Warning,
        _ => throw new ConfigException("argument(s) must be one of the following: debug, verbose, notice, warning"),
    };

    private static ProtectedAccess ParseProtectedAccess(string text) => text.ToLowerInvariant() switch
    {
        "no" => ProtectedAccess.No,
        "yes" => ProtectedAccess.Yes,
        "local" => ProtectedAccess.Local,
        _ => throw new ConfigException("argument(s) must be one of the following: no, yes, local"),
    };

    private static string FormatProtectedAccess(ProtectedAccess access) => access switch
    {
        ProtectedAccess.Yes => "yes",
        ProtectedAccess.Local => "local",
        _ => "no",
    };

    private static MaxMemoryPolicy ParsePolicy(string text) => text.ToLowerInvariant() switch
    {
        "noeviction" => MaxMemoryPolicy.NoEviction,
        "volatile-lru" => MaxMemoryPolicy.VolatileLru,
        "allkeys-lru" => MaxMemoryPolicy.AllKeysLru,
        "volatile-random" => MaxMemoryPolicy.VolatileRandom,
        "allkeys-random" => MaxMemoryPolicy.AllKeysRandom,
        "volatile-ttl" => MaxMemoryPolicy.VolatileTtl,
        "volatile-lfu" => MaxMemoryPolicy.VolatileLfu,
        "allkeys-lfu" => MaxMemoryPolicy.AllKeysLfu,
        _ => throw new ConfigException("argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"),
    };

    public static string FormatPolicy(MaxMemoryPolicy policy) => policy switch
    {
        MaxMemoryPolicy.NoEviction => "noeviction",
        MaxMemoryPolicy.VolatileLru => "volatile-lru",
        MaxMemoryPolicy.AllKeysLru => "allkeys-lru",
        MaxMemoryPolicy.VolatileRandom => "volatile-random",
        MaxMemoryPolicy.AllKeysRandom => "allkeys-random",
        MaxMemoryPolicy.VolatileTtl => "volatile-ttl",
        MaxMemoryPolicy.VolatileLfu => "volatile-lfu",
        MaxMemoryPolicy.AllKeysLfu => "allkeys-lfu",
        _ => throw new ArgumentOutOfRangeException(nameof(policy)),
    };

    /// <summary>
    /// <c>save &lt;seconds&gt; &lt;changes&gt; [...]</c> adds save points; <c>save ""</c> removes them all.
    /// In a config file each <c>save</c> line adds one point; from CONFIG SET the value replaces them.
    /// </summary>
    private static void ApplySave(ServerOptions o, string[] a)
    {
        if (a.Length == 1 && a[0].Length == 0)
        {
            o.Save.Clear();
            return;
        }
        // One quoted argument holding the pairs, as in --save "60 1" (redis-server 7 splits it too).
        if (a.Length == 1)
            a = a[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (a.Length % 2 != 0)
            throw new ConfigException("Invalid save parameters");
        for (int i = 0; i < a.Length; i += 2)
        {
            if (!long.TryParse(a[i], NumberStyles.None, CultureInfo.InvariantCulture, out long seconds) || seconds < 1
                || !long.TryParse(a[i + 1], NumberStyles.None, CultureInfo.InvariantCulture, out long changes) || changes < 0)
                throw new ConfigException("Invalid save parameters");
            o.Save.Add(new SavePoint(seconds, changes));
        }
    }

    private static void ApplyOutputLimit(ServerOptions o, string[] a)
    {
        if (a.Length % 4 != 0)
            throw new ConfigException("Wrong number of arguments in buffer limit configuration.");
        for (int i = 0; i < a.Length; i += 4)
        {
            string cls = a[i].ToLowerInvariant();
            if (cls is not ("normal" or "slave" or "replica" or "pubsub"))
                throw new ConfigException("Invalid client class specified in buffer limit configuration.");
            if (!ConfigValues.TryParseMemory(a[i + 1], out long hard) || !ConfigValues.TryParseMemory(a[i + 2], out long soft)
                || !long.TryParse(a[i + 3], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seconds)
                || hard < 0 || soft < 0 || seconds < 0)
                throw new ConfigException("Error in hard, soft or soft_seconds setting in buffer limit configuration.");
            var limit = new OutputBufferLimit(hard, soft, seconds);
            switch (cls)
            {
                case "normal": o.NormalOutputLimit = limit; break;
                case "pubsub": o.PubSubOutputLimit = limit; break;
                default: o.ReplicaOutputLimit = limit; break;
            }
        }
    }

    private static string FormatLimit(OutputBufferLimit l) => Fmt(l.HardBytes) + " " + Fmt(l.SoftBytes) + " " + Fmt(l.SoftSeconds);

    private static string FormatOutputLimits(ServerOptions o)
        => "normal " + FormatLimit(o.NormalOutputLimit) + " slave " + FormatLimit(o.ReplicaOutputLimit) + " pubsub " + FormatLimit(o.PubSubOutputLimit);
}
