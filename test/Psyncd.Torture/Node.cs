using System.Collections.Concurrent;
using System.Net.Sockets;
using Psyncd.Tests.Support;

namespace Psyncd.Torture;

public enum NodeKind
{
    Psyncd,
    Redis,
}

/// <summary>The resync counters of INFO stats a master keeps for the syncs it served.</summary>
public readonly record struct SyncCounts(long Full, long PartialOk, long PartialErr)
{
    public static SyncCounts operator +(SyncCounts a, SyncCounts b) => new(a.Full + b.Full, a.PartialOk + b.PartialOk, a.PartialErr + b.PartialErr);

    public static SyncCounts operator -(SyncCounts a, SyncCounts b) => new(a.Full - b.Full, a.PartialOk - b.PartialOk, a.PartialErr - b.PartialErr);

    public override string ToString() => "full " + Full + ", partial " + PartialOk + ", partial refused " + PartialErr;
}

/// <summary>
/// One server position of a round: psyncd or redis-server on a fixed port and directory, restarted on the
/// same files after a kill. A replica reaches its master through a <see cref="TcpProxy"/> of the harness
/// (<see cref="Link"/>), which faults cut and stall. Every process the harness starts is in
/// <see cref="s_running"/>, so that an interrupted run still kills them (by PID).
/// </summary>
public sealed class Node
{
    private static readonly ConcurrentDictionary<int, ServerProcess> s_running = new();
    private readonly TortureOptions _options;
    private readonly string _logPath;
    private ServerProcess? _process;
    private SyncCounts _countsOfEarlierProcesses;
    private int _starts;
    private int _logged;

    public Node(string name, NodeKind kind, string dir, bool diskless, TortureOptions options)
    {
        Name = name;
        Kind = kind;
        Dir = dir;
        Diskless = diskless;
        _options = options;
        Port = FreePort.Next();
        Directory.CreateDirectory(dir);
        _logPath = Path.Combine(dir, "..", name + ".log");
    }

    public string Name { get; }

    public NodeKind Kind { get; }

    public string Dir { get; }

    public int Port { get; }

    /// <summary>Whether this node serves full syncs without a file (repl-diskless-sync).</summary>
    public bool Diskless { get; }

    /// <summary>True once the node runs with appendonly yes (kept across its restarts in the round).</summary>
    public bool AppendOnly { get; set; }

    /// <summary>The node this one replicates, or null for the master of the topology.</summary>
    public Node? Master { get; private set; }

    /// <summary>The proxy between this node and <see cref="Master"/>.</summary>
    public TcpProxy? Link { get; private set; }

    /// <summary>True while the process is held by SIGSTOP.</summary>
    public bool Stopped { get; private set; }

    public bool Running => _process is { HasExited: false };

    public int Pid => _process?.Pid ?? 0;

    public string Label => Name + "(" + (Kind == NodeKind.Psyncd ? "psyncd" : "redis") + ")";

    /// <summary>Starts the process on this node's port and directory (as a replica of <see cref="Master"/> when it has one).</summary>
    public void Start()
    {
        var args = new List<string>
        {
            "--repl-timeout", _options.ReplTimeout.ToString(),
            "--repl-ping-slave-period", "1",
            "--repl-diskless-sync", Diskless ? "yes" : "no",
            "--repl-diskless-sync-delay", "0",
            // The harness's own DEBUG SET-ACTIVE-EXPIRE (a quiet kill-master); it connects over loopback.
            "--enable-debug-command", "local",
        };
        if (Master is not null)
            args.AddRange(new[] { "--replicaof", "127.0.0.1", Link!.Port.ToString() });
        if (AppendOnly)
            args.AddRange(new[] { "--appendonly", "yes" });
        _starts++;
        AppendLog("=== start #" + _starts + " " + DateTime.UtcNow.ToString("HH:mm:ss.fff") + " (" + string.Join(' ', args) + ")\n");
        try
        {
            _process = Kind == NodeKind.Psyncd
                ? ServerProcess.StartPsyncdIn(Dir, Port, args.ToArray())
                : ServerProcess.StartRedisIn(Dir, Port, args.ToArray());
        }
        catch (Exception e)
        {
            AppendLog("=== failed to start: " + e.Message + "\n");
            throw;
        }
        s_running[_process.Pid] = _process;
    }

    /// <summary>SIGKILL (after noting its resync counters), then its output goes to the node's log.</summary>
    public void Kill()
    {
        if (_process is null)
            return;
        if (Running && !Stopped)
            _countsOfEarlierProcesses += TryReadCounts() ?? default;
        Stopped = false;
        s_running.TryRemove(_process.Pid, out _);
        _process.Kill();
        AppendNewOutput();
        AppendLog("=== killed " + DateTime.UtcNow.ToString("HH:mm:ss.fff") + "\n");
        _logged = 0;
        _process.Dispose();
        _process = null;
    }

    public void Pause()
    {
        if (_process is null || Stopped)
            return;
        Posix.Signal(_process.Pid, Posix.SIGSTOP);
        Stopped = true;
    }

    public void Resume()
    {
        if (_process is null || !Stopped)
            return;
        Posix.Signal(_process.Pid, Posix.SIGCONT);
        Stopped = false;
    }

    /// <summary>Points this node at <paramref name="master"/> through a new proxy (REPLICAOF when running), or makes it a master.</summary>
    public void ReplicateFrom(Node? master, Func<ReadOnlyMemory<byte>, bool>? inspect = null)
    {
        var oldLink = Link;
        Master = master;
        Link = master is null ? null : new TcpProxy(master.Port) { InspectFromTarget = inspect };
        if (Running)
        {
            using var client = Connect();
            var reply = master is null ? client.Call("REPLICAOF", "NO", "ONE") : client.Call("REPLICAOF", "127.0.0.1", Link!.Port.ToString());
            if (reply is RespError error)
                throw new InvalidOperationException(Label + " refused REPLICAOF: " + error.Message);
        }
        oldLink?.Dispose();
    }

    public RawClient Connect(TimeSpan? timeout = null) => new(Port, timeout ?? TimeSpan.FromSeconds(20));

    /// <summary>What INFO's replication section says, or null when the node does not answer.</summary>
    public Dictionary<string, string>? TryInfo(string section = "replication")
    {
        if (!Running || Stopped)
            return null;
        try
        {
            return ReplicationWatch.Info(Port, section);
        }
        catch (Exception e) when (e is IOException or SocketException or InvalidDataException or InvalidCastException)
        {
            return null;
        }
    }

    /// <summary>Resyncs this position served over all its processes so far (null when the live one does not answer).</summary>
    public SyncCounts? TryTotalCounts()
    {
        if (!Running)
            return _countsOfEarlierProcesses;
        var live = TryReadCounts();
        return live is null ? null : _countsOfEarlierProcesses + live.Value;
    }

    private SyncCounts? TryReadCounts()
    {
        var stats = TryInfo("stats");
        if (stats is null)
            return null;
        long Get(string name) => long.TryParse(stats.GetValueOrDefault(name), out long v) ? v : 0;
        return new SyncCounts(Get("sync_full"), Get("sync_partial_ok"), Get("sync_partial_err"));
    }

    /// <summary>Stops the process and the link for good (end of a round); the output stays in the log.</summary>
    public void Shutdown()
    {
        Resume();
        Kill();
        Link?.Dispose();
        Link = null;
    }

    /// <summary>Writes what the live process printed so far to the log (kept with the run's files on failure).</summary>
    public void FlushLog()
    {
        if (_process is null)
            return;
        AppendNewOutput();
    }

    /// <summary>Appends what the live process printed since the last time.</summary>
    private void AppendNewOutput()
    {
        string output = _process!.Output;
        if (output.Length > _logged)
            AppendLog(output[_logged..]);
        _logged = output.Length;
    }

    public string LogPath => Path.GetFullPath(_logPath);

    private void AppendLog(string text) => File.AppendAllText(_logPath, text);

    /// <summary>Kills every process the harness started that is still running (Ctrl-C, SIGTERM, exit).</summary>
    public static void KillAll()
    {
        foreach (var (pid, process) in s_running)
        {
            try
            {
                process.Kill();
            }
            catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
            {
                // Already gone.
            }
            s_running.TryRemove(pid, out _);
        }
    }
}
