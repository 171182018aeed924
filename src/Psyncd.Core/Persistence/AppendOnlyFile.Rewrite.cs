using System.Diagnostics;
using System.Globalization;
using Psyncd.Config;
using Psyncd.Rdb;

namespace Psyncd.Persistence;

/// <summary>How BGREWRITEAOF was taken (the reply says it).</summary>
public enum RewriteStart
{
    Started,
    Scheduled,
    AlreadyRunning,
}

/// <summary>
/// Rewriting the log (BGREWRITEAOF, the automatic rewrite, and the first base of <c>CONFIG SET appendonly yes</c>): at one
/// instant of the loop a new incremental file begins and a fork-free snapshot of the dataset starts; the snapshot is
/// written as the new base on a thread of its own while the loop serves. When it is complete, the older incremental
/// files become history, kept for PSYNC within the retention limits, and the old base goes.
/// </summary>
public sealed partial class AppendOnlyFile
{
    private RdbSnapshot? _rewrite;
    private long _rewriteStartedMs;
    private long _rewriteCount;

    /// <summary>The incremental file the running rewrite began; the files before it become history when it succeeds.</summary>
    private string? _rewriteIncr;

    /// <summary>
    /// Turned on at runtime: the stream goes to a temporary incremental file, outside the manifest, until the first base
    /// exists (a crash before that leaves the previous manifest, never a log without its data).
    /// </summary>
    private bool _waitingFirstBase;

    private AofFileInfo? _tempIncr;

    /// <summary>Files of a log that was off, to delete once the new one has its base.</summary>
    private readonly List<string> _stale = new();

    private long _lastFailedRewriteMs;

    /// <summary>True while a rewrite writes a new base (INFO's aof_rewrite_in_progress).</summary>
    public bool RewriteInProgress => _rewrite is not null;

    /// <summary>True when a rewrite waits for a running snapshot to end (INFO's aof_rewrite_scheduled).</summary>
    public bool RewriteScheduled { get; private set; }

    public long LastRewriteDurationSec { get; private set; } = -1;

    public long CurrentRewriteDurationSec => _rewrite is null ? -1 : (Environment.TickCount64 - _rewriteStartedMs) / 1000;

    public bool LastRewriteOk { get; private set; } = true;

    public long Rewrites { get; private set; }

    public long RewriteFailuresInARow { get; private set; }

    /// <summary>BGREWRITEAOF (inside the loop); inside EXEC it is only scheduled, as redis-server does.</summary>
    public RewriteStart StartRewrite(bool inExec = false)
    {
        Debug.Assert(_loop.IsInside);
        if (_rewrite is not null)
            return RewriteStart.AlreadyRunning;
        if (_rdb.SnapshotInProgress || inExec)
        {
            RewriteScheduled = true;
            return RewriteStart.Scheduled;
        }
        RewriteScheduled = false;
        Directory.CreateDirectory(DirPath);
        if (!IsOn && !_waitingFirstBase && File.Exists(ManifestPath))
        {
            // appendonly no: the files of the log on disk go once the new base replaces them.
            try
            {
                _manifest = AofManifest.Parse(File.ReadAllBytes(ManifestPath));
            }
            catch (AofManifestException)
            {
                _manifest = new AofManifest();
            }
        }
        ReplicationPoint point;
        if (_waitingFirstBase)
            point = RestartTempIncr();
        else if (IsOn)
            point = Rotate();
        else
            point = CurrentPoint();
        _rewriteIncr = IsOn && !_waitingFirstBase ? _manifest.Incr[^1].Name : null;
        var snapshot = RdbSnapshot.Begin(_loop, _keyspace, BaseHeader(point), _options.RdbCompression);
        _rewrite = snapshot;
        _rewriteStartedMs = Environment.TickCount64;
        string temp = FilePath("temp-rewriteaof-bg-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" +
                               (++_rewriteCount).ToString(CultureInfo.InvariantCulture) + ".aof");
        bool checksum = _options.RdbChecksum;
        _log.Notice("Background append only file rewriting started");
        SnapshotThreads.Shared.Run(() => RewriteMain(snapshot, temp, checksum, point));
        return RewriteStart.Started;
    }

    private void RewriteMain(RdbSnapshot snapshot, string temp, bool checksum, ReplicationPoint point)
    {
        string? error = null;
        try
        {
            using var file = RdbOutput.CreateFile(temp);
            snapshot.StreamTo(file, checksum);
            file.Flush(flushToDisk: true);
        }
        catch (Exception e)
        {
            error = e is OperationCanceledException ? "cancelled" : e.Message;
        }
        _loop.Run(() => FinishRewrite(snapshot, error, temp, point));
    }

    private void FinishRewrite(RdbSnapshot snapshot, string? error, string temp, ReplicationPoint point)
    {
        if (_rewrite != snapshot)
        {
            TryDeletePath(temp); // cancelled: the log went on without it
            return;
        }
        _rewrite = null;
        LastRewriteDurationSec = (Environment.TickCount64 - _rewriteStartedMs) / 1000;
        if (error is not null)
        {
            snapshot.Cancel();
            TryDeletePath(temp);
            LastRewriteOk = false;
            RewriteFailuresInARow++;
            _lastFailedRewriteMs = Environment.TickCount64;
            _log.Warning("Background AOF rewrite terminated with error: " + error);
            return;
        }
        _log.Notice("Background AOF rewrite terminated with success");
        long seq = ++_manifest.BaseSeq;
        string name = AofManifest.BaseName(_options.AppendFilename, seq, rdb: true);
        File.Move(temp, FilePath(name), overwrite: true);
        _log.Notice("Successfully renamed the temporary AOF base file " + Path.GetFileName(temp) + " into " + name);
        var oldBase = _manifest.Base;
        _manifest.Base = new AofFileInfo(name, seq, AofFileType.Base, point.Offset, point.ReplId);
        var gone = new List<string>();
        if (oldBase is not null)
            gone.Add(oldBase.Name);
        if (_waitingFirstBase && _tempIncr is { } tempIncr)
        {
            // The temporary incremental file becomes the log's first one (renaming an open file keeps its handle).
            long incrSeq = ++_manifest.IncrSeq;
            string incrName = AofManifest.IncrName(_options.AppendFilename, incrSeq);
            File.Move(FilePath(tempIncr.Name), FilePath(incrName), overwrite: true);
            _manifest.History.Clear();
            _manifest.Incr.Clear();
            _manifest.Incr.Add(tempIncr with { Name = incrName, Seq = incrSeq });
            _waitingFirstBase = false;
            _tempIncr = null;
            _log.Notice("AOF rewrite: the first base of the log is " + name + ", its stream goes on in " + incrName);
        }
        else if (!IsOn)
        {
            // BGREWRITEAOF with appendonly no (as redis-server 7.0): the base alone is the log.
            gone.AddRange(_manifest.History.Select(h => h.Name));
            gone.AddRange(_manifest.Incr.Select(i => i.Name));
            _manifest.History.Clear();
            _manifest.Incr.Clear();
        }
        else
        {
            int started = _manifest.Incr.FindIndex(i => i.Name == _rewriteIncr);
            for (int i = 0; i < started; i++)
                _manifest.History.Add(_manifest.Incr[i] with { Type = AofFileType.History });
            if (started > 0)
                _manifest.Incr.RemoveRange(0, started);
        }
        gone.AddRange(_stale);
        _stale.Clear();
        WriteManifest();
        foreach (var file in gone.Distinct())
            DeleteFile(file);
        ApplyRetention();
        Rewrites++;
        LastRewriteOk = true;
        RewriteFailuresInARow = 0;
        CurrentSize = BaseSize = new FileInfo(FilePath(name)).Length + IncrBytes();
        _log.Notice("Background AOF rewrite finished successfully");
    }

    /// <summary>Bytes of the incremental files now in the manifest (the current one as written so far).</summary>
    private long IncrBytes()
    {
        long sum = 0;
        for (int i = 0; i < _manifest.Incr.Count; i++)
        {
            string path = FilePath(_manifest.Incr[i].Name);
            if (i == _manifest.Incr.Count - 1 && IsOn)
                sum += _incrLength;
            else if (File.Exists(path))
                sum += new FileInfo(path).Length;
        }
        return sum;
    }

    /// <summary>
    /// History files go, oldest first, while there are more than <c>repl-log-retention-files</c> of them or together
    /// they pass <c>repl-log-retention-size</c>: beyond that a replica resynchronizes fully, as past the RAM backlog.
    /// </summary>
    private void ApplyRetention()
    {
        bool changed = false;
        while (_manifest.History.Count > 0)
        {
            long size = 0;
            foreach (var h in _manifest.History)
                size += File.Exists(FilePath(h.Name)) ? new FileInfo(FilePath(h.Name)).Length : 0;
            if (_manifest.History.Count <= _options.ReplLogRetentionFiles && size <= _options.ReplLogRetentionSize)
                break;
            var oldest = _manifest.History[0];
            _manifest.History.RemoveAt(0);
            DeleteFile(oldest.Name);
            changed = true;
        }
        if (changed)
            WriteManifest();
    }

    /// <summary>Stops a running rewrite (its temp file is removed; the log goes on as it was).</summary>
    public void CancelRewrite()
    {
        RewriteScheduled = false;
        if (_rewrite is not { } snapshot)
            return;
        _log.Notice("Killing running AOF rewrite");
        snapshot.Cancel();
        _rewrite = null;
    }

    /// <summary>The cron: a scheduled rewrite once no snapshot runs, and the automatic rewrite on growth (Redis's serverCron).</summary>
    public void Cron()
    {
        if (_rewrite is not null || _rdb.SnapshotInProgress)
            return;
        if (RewriteScheduled || (_waitingFirstBase && Environment.TickCount64 - _lastFailedRewriteMs > 5000))
        {
            StartRewrite();
            return;
        }
        int percentage = _options.AutoAofRewritePercentage;
        if (!IsOn || percentage == 0 || CurrentSize <= _options.AutoAofRewriteMinSize)
            return;
        // After a failure, wait before trying again (Redis waits too), so a full disk is not hammered.
        if (!LastRewriteOk && Environment.TickCount64 - _lastFailedRewriteMs < 60_000)
            return;
        long baseSize = BaseSize == 0 ? 1 : BaseSize;
        long growth = CurrentSize * 100 / baseSize - 100;
        if (growth < percentage)
            return;
        _log.Notice("Starting automatic rewriting of AOF on " + growth + "% growth");
        StartRewrite();
    }

    // ------------------------------------------------------------------
    // CONFIG SET appendonly yes|no
    // ------------------------------------------------------------------

    /// <summary>
    /// <c>CONFIG SET appendonly yes</c> (inside the loop): the stream goes to a temporary incremental file from now on, and
    /// the first base is written from a snapshot taken at the same instant while the loop serves; only then does the
    /// manifest name them. Returns false when the directory cannot be used.
    /// </summary>
    public bool Enable()
    {
        if (IsOn)
            return true;
        try
        {
            Directory.CreateDirectory(DirPath);
            // Whatever log is there describes a dataset of the past: its files go once the new base exists, and their
            // numbers are not reused meanwhile.
            var old = File.Exists(ManifestPath) ? AofManifest.Parse(File.ReadAllBytes(ManifestPath)) : new AofManifest();
            _stale.Clear();
            if (old.Base is not null)
                _stale.Add(old.Base.Name);
            _stale.AddRange(old.History.Select(h => h.Name));
            _stale.AddRange(old.Incr.Select(i => i.Name));
            _manifest = old;
            _waitingFirstBase = true;
            RestartTempIncr();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or AofManifestException)
        {
            _log.Warning("Redis needs to enable the AOF but can't open the append only file: " + e.Message);
            _waitingFirstBase = false;
            return false;
        }
        if (_rdb.SnapshotInProgress)
        {
            RewriteScheduled = true;
            _log.Notice("AOF was enabled but there is already another background operation. An AOF background was scheduled to start when possible.");
        }
        else
        {
            StartRewrite();
        }
        return true;
    }

    /// <summary>(Re)starts the temporary incremental file at the stream's current point (the instant of the base to come).</summary>
    private ReplicationPoint RestartTempIncr()
    {
        FlushBuffer();
        _buffer.Clear();
        var point = CurrentPoint();
        var (handle, info) = CreateIncrFile("temp-" + _options.AppendFilename + ".incr", 0, point);
        _tempIncr = info;
        SwitchTo(handle, info.Skip);
        return point;
    }

    /// <summary><c>CONFIG SET appendonly no</c>: stops appending (the files stay; a waiting first base is abandoned).</summary>
    public void Disable()
    {
        CancelRewrite();
        if (IsOn)
            Close();
        if (_waitingFirstBase && _tempIncr is { } temp)
            TryDeletePath(FilePath(temp.Name));
        _waitingFirstBase = false;
        _tempIncr = null;
        _stale.Clear();
    }

    private void TryDeletePath(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning("Could not remove " + path + ": " + e.Message);
        }
    }
}
