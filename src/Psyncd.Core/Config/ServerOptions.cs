namespace Psyncd.Config;

/// <summary>A save point: snapshot when at least <see cref="Changes"/> writes happened in <see cref="Seconds"/>.</summary>
public readonly record struct SavePoint(long Seconds, long Changes);

/// <summary>An output buffer limit of one client class (<c>client-output-buffer-limit</c>).</summary>
public readonly record struct OutputBufferLimit(long HardBytes, long SoftBytes, long SoftSeconds);

/// <summary><c>appendfsync</c>'s policies.</summary>
public enum AppendFsync
{
    No,
    EverySec,
    Always,
}

/// <summary>A master to replicate from (<c>slaveof</c> / <c>replicaof</c>).</summary>
public sealed record MasterAddress(string Host, int Port);

/// <summary>Eviction policies of <c>maxmemory-policy</c>.</summary>
public enum MaxMemoryPolicy
{
    NoEviction,
    VolatileLru,
    AllKeysLru,
    VolatileRandom,
    AllKeysRandom,
    VolatileTtl,
    VolatileLfu,
    AllKeysLfu,
}

/// <summary>What a <see cref="MaxMemoryPolicy"/> means: which keys it may evict and how it ranks them.</summary>
public static class MaxMemoryPolicies
{
    /// <summary>True for the LFU policies: a key's access field holds a frequency counter instead of an LRU clock.</summary>
    public static bool IsLfu(this MaxMemoryPolicy policy) => policy is MaxMemoryPolicy.VolatileLfu or MaxMemoryPolicy.AllKeysLfu;

    /// <summary>
    /// True for the LRU and LFU policies: each value needs its own access field, so Redis stops sharing its
    /// small integer objects among keys while such a policy and a maxmemory are set.
    /// </summary>
    public static bool RanksByAccess(this MaxMemoryPolicy policy)
        => policy is MaxMemoryPolicy.VolatileLru or MaxMemoryPolicy.AllKeysLru || policy.IsLfu();

    /// <summary>True for the volatile-* policies: only keys with a time to live may be evicted.</summary>
    public static bool IsVolatile(this MaxMemoryPolicy policy)
        => policy is MaxMemoryPolicy.VolatileLru or MaxMemoryPolicy.VolatileLfu or MaxMemoryPolicy.VolatileRandom or MaxMemoryPolicy.VolatileTtl;
}

/// <summary>
/// Who may use a protected feature (<c>enable-debug-command</c>, <c>enable-protected-configs</c>): nobody,
/// everybody, or only local clients (loopback 127.0.0.1 / ::1 and Unix sockets).
/// </summary>
public enum ProtectedAccess
{
    No,
    Yes,
    Local,
}

/// <summary>Log verbosity, from most to least chatty (<c>loglevel</c>).</summary>
public enum LogLevel
{
    Debug,
    Verbose,
    Notice,
    Warning,
}

/// <summary>
/// Every setting of the server, one property per redis.conf directive. Defaults are redis-server 2.8's
/// unless a remark says otherwise. <see cref="ConfigRegistry"/> maps directive names to these properties;
/// the file parser, the command line, CONFIG GET/SET and CONFIG REWRITE all go through it.
/// </summary>
public sealed class ServerOptions
{
    // ---- General ----

    /// <summary>Path of the config file the server was started with, if any (CONFIG REWRITE writes it).</summary>
    public string? ConfigFile { get; set; }

    /// <summary><c>daemonize</c>: detach from the terminal. Defaults to no.</summary>
    public bool Daemonize { get; set; }

    /// <summary><c>pidfile</c>: where to write the process id. Defaults to none in the foreground.</summary>
    public string PidFile { get; set; } = "";

    /// <summary><c>loglevel</c>. Defaults to notice.</summary>
    public LogLevel LogLevel { get; set; } = LogLevel.Notice;

    /// <summary><c>logfile</c>: empty means standard output.</summary>
    public string LogFile { get; set; } = "";

    /// <summary><c>databases</c>. Defaults to 16.</summary>
    public int Databases { get; set; } = 16;

    // ---- Network ----

    /// <summary><c>bind</c>: addresses to listen on; empty means all interfaces.</summary>
    public List<string> Bind { get; set; } = new();

    /// <summary><c>port</c>: TCP port, 0 to not listen on TCP. Defaults to 6379.</summary>
    public int Port { get; set; } = 6379;

    /// <summary><c>tcp-backlog</c>. Defaults to 511.</summary>
    public int TcpBacklog { get; set; } = 511;

    /// <summary><c>unixsocket</c>: path of a Unix socket to listen on, if any.</summary>
    public string UnixSocket { get; set; } = "";

    /// <summary><c>unixsocketperm</c>: octal permissions of the Unix socket; 0 leaves the default.</summary>
    public int UnixSocketPerm { get; set; }

    /// <summary><c>timeout</c>: close a client idle for this many seconds; 0 never.</summary>
    public long Timeout { get; set; }

    /// <summary><c>tcp-keepalive</c>: seconds between TCP keepalive probes; 0 off.</summary>
    public int TcpKeepalive { get; set; }

    /// <summary><c>maxclients</c>. Defaults to 10000.</summary>
    public int MaxClients { get; set; } = 10000;

    // ---- Snapshotting ----

    /// <summary><c>save</c> points; empty disables automatic snapshots.</summary>
    public List<SavePoint> Save { get; set; } = new() { new(900, 1), new(300, 10), new(60, 10000) };

    public bool StopWritesOnBgsaveError { get; set; } = true;

    public bool RdbCompression { get; set; } = true;

    public bool RdbChecksum { get; set; } = true;

    public string DbFilename { get; set; } = "dump.rdb";

    /// <summary><c>dir</c>: the working directory, where the RDB file lives. Defaults to the current directory.</summary>
    public string Dir { get; set; } = Directory.GetCurrentDirectory();

    // ---- Replication ----

    public MasterAddress? SlaveOf { get; set; }

    public string MasterAuth { get; set; } = "";

    public bool SlaveServeStaleData { get; set; } = true;

    public bool SlaveReadOnly { get; set; } = true;

    public bool ReplDisklessSync { get; set; }

    public int ReplDisklessSyncDelay { get; set; } = 5;

    public int ReplPingSlavePeriod { get; set; } = 10;

    public int ReplTimeout { get; set; } = 60;

    public bool ReplDisableTcpNodelay { get; set; }

    public long ReplBacklogSize { get; set; } = 1024 * 1024;

    public long ReplBacklogTtl { get; set; } = 3600;

    public int SlavePriority { get; set; } = 100;

    public int MinSlavesToWrite { get; set; }

    public int MinSlavesMaxLag { get; set; } = 10;

    /// <summary><c>slave-announce-ip</c>: the address given to the master in REPLCONF ip-address.</summary>
    public string SlaveAnnounceIp { get; set; } = "";

    /// <summary><c>slave-announce-port</c>: the port given to the master; 0 means <see cref="Port"/>.</summary>
    public int SlaveAnnouncePort { get; set; }

    // ---- Security ----

    public string RequirePass { get; set; } = "";

    /// <summary>
    /// <c>protected-mode</c>: while no password is set, serve only local clients (loopback and Unix
    /// sockets); others get a DENIED error. Defaults to yes (Redis 3.2+).
    /// </summary>
    public bool ProtectedMode { get; set; } = true;

    /// <summary>
    /// <c>always-show-logo</c>: log the startup banner (version, mode, <c>Port:</c>, <c>PID:</c>) even when the log
    /// is not a terminal. Defaults to yes, where Redis 7 says no: Redis 2.8 always showed it, and tools of its
    /// time (its own test runner) wait for its <c>PID:</c> line, also from a server that then fails to start.
    /// </summary>
    public bool AlwaysShowLogo { get; set; } = true;

    /// <summary><c>enable-debug-command</c>: who may run DEBUG. Defaults to no (Redis 7).</summary>
    public ProtectedAccess EnableDebugCommand { get; set; } = ProtectedAccess.No;

    /// <summary><c>enable-protected-configs</c>: who may CONFIG SET dir and dbfilename. Defaults to no (Redis 7).</summary>
    public ProtectedAccess EnableProtectedConfigs { get; set; } = ProtectedAccess.No;

    /// <summary><c>rename-command</c> pairs, applied when the command table is built; an empty new name removes the command.</summary>
    public List<(string From, string To)> RenamedCommands { get; set; } = new();

    // ---- Append only file (the durable replication log) ----

    /// <summary><c>appendonly</c>: every write of the replication stream is also appended to the log on disk.</summary>
    public bool AppendOnly { get; set; }

    /// <summary><c>appendfilename</c>: the prefix of the log's file names (Redis 7.0's multi-part layout).</summary>
    public string AppendFilename { get; set; } = "appendonly.aof";

    /// <summary><c>appenddirname</c>: the log's directory, inside <c>dir</c>.</summary>
    public string AppendDirname { get; set; } = "appendonlydir";

    /// <summary><c>appendfsync</c>: always (before the reply leaves), everysec (a background fsync each second), no.</summary>
    public AppendFsync AppendFsync { get; set; } = AppendFsync.EverySec;

    /// <summary><c>aof-load-truncated</c>: a log whose last command was cut by a crash loads up to the last complete one.</summary>
    public bool AofLoadTruncated { get; set; } = true;

    /// <summary><c>aof-use-rdb-preamble</c>: bases are written as RDB (yes) or as commands (no).</summary>
    public bool AofUseRdbPreamble { get; set; } = true;

    /// <summary><c>auto-aof-rewrite-percentage</c>: rewrite when the log grew this much over its base (0: never).</summary>
    public int AutoAofRewritePercentage { get; set; } = 100;

    /// <summary><c>auto-aof-rewrite-min-size</c>: no automatic rewrite below this size.</summary>
    public long AutoAofRewriteMinSize { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// <c>repl-log-retention-size</c> (psyncd): the history files (older incremental files kept for PSYNC after a
    /// rewrite) may take this many bytes together; the oldest go first. 0 keeps none. Defaults to 1gb.
    /// </summary>
    public long ReplLogRetentionSize { get; set; } = 1L << 30;

    /// <summary><c>repl-log-retention-files</c> (psyncd): at most this many history files are kept. Defaults to 16.</summary>
    public int ReplLogRetentionFiles { get; set; } = 16;

    /// <summary>
    /// <c>repl-log-max-replay-percentage</c> (psyncd): the log on disk serves a PSYNC only while the bytes it would send
    /// are at most this percentage of the dataset's memory (used_memory less the store log's superseded records);
    /// beyond it the replica gets a full sync,
    /// which is then the faster way back. 0: no limit. Requests the RAM backlog's size would hold are always served.
    /// </summary>
    /// <remarks>
    /// Replaying the stream costs about its length in commands applied, a full sync about the dataset's size; the
    /// default is where they meet on the measured figures (README, "The durable replication log", its figures).
    /// </remarks>
    public int ReplLogMaxReplayPercentage { get; set; } = 250;

    // ---- Limits ----

    /// <summary><c>maxmemory</c> in bytes; 0 means no limit.</summary>
    public long MaxMemory { get; set; }

    /// <summary><c>maxmemory-policy</c>. Defaults to noeviction (Redis 3.0's default; 2.8 defaulted to volatile-lru).</summary>
    public MaxMemoryPolicy MaxMemoryPolicy { get; set; } = MaxMemoryPolicy.NoEviction;

    /// <summary><c>maxmemory-samples</c>: keys sampled per database to choose each victim.</summary>
    public int MaxMemorySamples { get; set; } = 5;

    // ---- Lua scripting ----

    /// <summary>
    /// Milliseconds a script runs before other clients get -BUSY and SCRIPT KILL may stop it (lua-time-limit,
    /// alias busy-reply-threshold). 0 means at once.
    /// </summary>
    /// <remarks>Defaults to 5000.</remarks>
    public long LuaTimeLimit { get; set; } = 5000;

    /// <summary><c>maxmemory-eviction-tenacity</c> (0-100): how long one round of evictions may run (Redis 7.0's scale).</summary>
    public int MaxMemoryEvictionTenacity { get; set; } = 10;

    /// <summary><c>lfu-log-factor</c>: how hard the LFU counter's logarithmic increment gets.</summary>
    public int LfuLogFactor { get; set; } = 10;

    /// <summary><c>lfu-decay-time</c>: minutes for the LFU counter to lose one (0: never decays).</summary>
    public int LfuDecayTime { get; set; } = 1;

    /// <summary><c>replica-ignore-maxmemory</c>: a replica does not evict (its master's DELs do), and refuses nothing for memory.</summary>
    public bool ReplicaIgnoreMaxMemory { get; set; } = true;

    // ---- Slow log ----

    public long SlowlogLogSlowerThan { get; set; } = 10000;

    public long SlowlogMaxLen { get; set; } = 128;

    // ---- Latency monitor ----

    /// <summary>
    /// <c>latency-monitor-threshold</c>: events (commands, expiry cycles) that take at least this many
    /// milliseconds are recorded for LATENCY; 0 turns the monitor off.
    /// </summary>
    /// <remarks>Defaults to 0, as in Redis.</remarks>
    public long LatencyMonitorThreshold { get; set; }

    /// <summary><c>latency-tracking</c>: each command's latency distribution is recorded for LATENCY HISTOGRAM.</summary>
    /// <remarks>Defaults to yes, as in Redis 7.0.</remarks>
    public bool LatencyTracking { get; set; } = true;

    // ---- Events ----

    /// <summary><c>notify-keyspace-events</c>: the classes published (none: off).</summary>
    public KeyspaceEventClass NotifyKeyspaceEvents { get; set; }

    // ---- Encodings (used for OBJECT ENCODING and compact RDB encodings) ----

    public long HashMaxZiplistEntries { get; set; } = 512;

    public long HashMaxZiplistValue { get; set; } = 64;

    public long ListMaxZiplistEntries { get; set; } = 512;

    public long ListMaxZiplistValue { get; set; } = 64;

    public long SetMaxIntsetEntries { get; set; } = 512;

    public long ZsetMaxZiplistEntries { get; set; } = 128;

    public long ZsetMaxZiplistValue { get; set; } = 64;

    public long HllSparseMaxBytes { get; set; } = 3000;

    // ---- Clients ----

    public OutputBufferLimit NormalOutputLimit { get; set; } = new(0, 0, 0);

    public OutputBufferLimit ReplicaOutputLimit { get; set; } = new(256L * 1024 * 1024, 64L * 1024 * 1024, 60);

    public OutputBufferLimit PubSubOutputLimit { get; set; } = new(32L * 1024 * 1024, 8L * 1024 * 1024, 60);

    /// <summary><c>client-query-buffer-limit</c>: a client whose unprocessed input exceeds this is closed. Defaults to 1gb.</summary>
    public long ClientQueryBufferLimit { get; set; } = 1L << 30;

    /// <summary><c>proto-max-bulk-len</c>: the largest bulk argument of a request. Defaults to 512mb.</summary>
    public long ProtoMaxBulkLen { get; set; } = 512L * 1024 * 1024;

    /// <summary><c>hz</c>: how many times a second the cron runs (1..500). Defaults to 10.</summary>
    public int Hz { get; set; } = 10;

    /// <summary>
    /// <c>event-loop-poll-us</c> (psyncd): after a pass that served events, how long the event loop may poll before it
    /// sleeps in epoll_wait, when a core is idle (docs/performance.md, "The event loop polls before it sleeps"). 0: never.
    /// </summary>
    public int EventLoopPollUs { get; set; } = 20;

    // ---- Store (psyncd's own: FASTER's memory layout) ----

    /// <summary>
    /// <c>store-log-memory</c>: the most memory FASTER's record log may use, rounded down to a power of two.
    /// 0 (the default) picks the largest power of two not above three quarters of the machine's memory.
    /// Writes that would not fit are refused with an OOM error; records are never evicted.
    /// </summary>
    public long StoreLogMemory { get; set; }

    /// <summary>
    /// <c>store-log-page-size</c>: size of one page of the record log (a power of two). Defaults to 1mb: FASTER
    /// allocates the page after the tail's ahead of time and clears both, so a page is resident before it
    /// holds anything (with 4mb pages, 6 MB on average of the server's RSS and used_memory held no record).
    /// </summary>
    public long StoreLogPageSize { get; set; } = 1L * 1024 * 1024;

    /// <summary>
    /// <c>store-index-size</c>: initial bytes of FASTER's hash index (64 bytes per bucket of 7 keys); the index
    /// doubles whenever the keys average more than four per bucket. Defaults to 1mb.
    /// </summary>
    public long StoreIndexSize { get; set; } = 1L * 1024 * 1024;

    /// <summary>Directives given that psyncd accepts for compatibility but that change nothing (logged at startup).</summary>
    public List<string> IgnoredDirectives { get; } = new();
}
