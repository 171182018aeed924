using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Rdb;
using Psyncd.Storage;

namespace Psyncd.Persistence;

/// <summary>Persistence: loading the RDB at startup, SAVE, BGSAVE (a background snapshot that never stops the loop for long), save points, saving at shutdown, DEBUG RELOAD, and the state INFO persistence reports. A save writes temp-<pid>.rdb in dir, fsyncs it and renames it over dbfilename, so a crash mid-save never damages the previous dump.</summary>
public sealed class RdbPersistence
{
    private readonly CommandLoop _loop;
    private readonly Keyspace _keyspace;
    private readonly ServerOptions _options;
    private readonly ServerLog _log;
    private readonly DatasetState _dataset;
    private readonly MemoryMonitor _memory;
    private readonly ReplicationState _role;
    private readonly PropagationList _propagation;
    private readonly IEffectsSink _stream;

    public RdbPersistence(CommandLoop loop, Keyspace keyspace, ServerOptions options, ServerLog log, DatasetState dataset, MemoryMonitor memory, ReplicationState role, PropagationList propagation, IEffectsSink stream)
    {
        _loop = loop;
        _keyspace = keyspace;
        _options = options;
        _log = log;
        _dataset = dataset;
        _memory = memory;
        _role = role;
        _propagation = propagation;
        _stream = stream;
    }

    private RdbSnapshot? _bgsave;

    /// <summary>Told (inside the loop) how the running BGSAVE ended, when its starter asked (a full sync's snapshot).</summary>
    private Action<bool>? _bgsaveDone;

    /// <summary>The replication history dumps record and restore (set by the root: replication is built after persistence).</summary>
    public IReplicationHistory? History { get; set; }

    private long _bgsaveStartedMs;

    private long _lastBgsaveTryUnix;

    /// <summary><see cref="Storage.Keyspace.Dirty"/> at the last successful save (INFO's rdb_changes_since_last_save is the difference).</summary>
    public long DirtyAtLastSave { get; private set; }

    /// <summary>The dataset as loaded counts as saved (after loading the append-only log).</summary>
    public void MarkClean() => DirtyAtLastSave = _keyspace.Dirty;

    /// <summary>INFO's rdb_changes_since_last_save.</summary>
    public long ChangesSinceLastSave => _keyspace.Dirty - DirtyAtLastSave;

    /// <summary>Unix seconds of the last successful save (LASTSAVE; startup counts as one).</summary>
    public long LastSaveTime { get; private set; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>True while a BGSAVE runs.</summary>
    public bool BgsaveInProgress => _bgsave is not null;

    /// <summary>False when the last BGSAVE failed (INFO's rdb_last_bgsave_status).</summary>
    public bool LastBgsaveStatusOk { get; private set; } = true;

    /// <summary>Seconds the last BGSAVE took, -1 before the first (INFO's rdb_last_bgsave_time_sec).</summary>
    public long LastBgsaveDurationSec { get; private set; } = -1;

    /// <summary>Same as <see cref="LastBgsaveDurationSec"/> (INFO's rdb_last_bgsave_time_sec).</summary>
    public long LastBgsaveDurationSeconds => LastBgsaveDurationSec;

    /// <summary>Unix seconds the running BGSAVE started, or -1.</summary>
    public long BgsaveStartedAt => _bgsave is null ? -1 : DateTimeOffset.UtcNow.ToUnixTimeSeconds() - (Environment.TickCount64 - _bgsaveStartedMs) / 1000;

    /// <summary>Microseconds the last snapshot took to start (INFO's latest_fork_usec; psyncd does not fork, it notes the log's tail).</summary>
    public long LatestForkMicroseconds { get; private set; }

    /// <summary>Seconds the running BGSAVE has taken so far, -1 when none runs (INFO's rdb_current_bgsave_time_sec).</summary>
    public long CurrentBgsaveDurationSec => _bgsave is null ? -1 : (Environment.TickCount64 - _bgsaveStartedMs) / 1000;

    /// <summary>The dump file: <c>dir</c>/<c>dbfilename</c>.</summary>
    public string RdbPath => Path.Combine(_options.Dir, _options.DbFilename);

    private string TempRdbPath => Path.Combine(_options.Dir, "temp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".rdb");

    /// <summary>
    /// Each BGSAVE writes a file of its own (<c>temp-&lt;pid&gt;-&lt;n&gt;.rdb</c>), as Redis's child writes one named
    /// after its own pid: a cancelled BGSAVE's thread may still be writing when a SAVE or the next BGSAVE starts.
    /// </summary>
    private string NextBgsaveTempPath() =>
        Path.Combine(_options.Dir, "temp-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "-" + (++_bgsaveCount).ToString(CultureInfo.InvariantCulture) + ".rdb");

    private long _bgsaveCount;

    /// <summary>The header of RDBs this server writes: with a replication history (a master with a backlog, or a
    /// replica), the file records it, so that after a restart the server can continue it with PSYNC (Redis 4.0+).</summary>
    public RdbHeader MakeRdbHeader()
    {
        var header = BaseHeader();
        return History?.PointToSave() is { } point ? header.WithReplication(point) : header;
    }

    /// <summary>A header without replication fields (the caller adds the point it records).</summary>
    public RdbHeader BaseHeader() => new(ServerIdentity.RedisVersion, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), _memory.UsedMemory());

    // ------------------------------------------------------------------
    // Loading
    // ------------------------------------------------------------------

    public void LoadAtStartup()
    {
        string path = RdbPath;
        if (!File.Exists(path))
            return;
        var watch = Stopwatch.StartNew();
        _dataset.Loading = true;
        try
        {
            _loop.Run(() =>
            {
                // A master drops the keys that expired while it was down, on its own clock: as for any
                // expiry, its replicas get a DEL for each (Redis 7.0 feeds them to the backlog at load).
                // They are collected while loading and written once the restored history is in place,
                // so a replica that continues it deletes them too; with no history they go nowhere.
                var dels = _propagation;
                var reader = LoadRdbFile(path, onExpiredDropped: dels.AddDel);
                if (reader.Replication is { } point)
                    History?.Restore(point);
                dels.FlushTo(_stream, wrap: false);
            });
        }
        catch (RdbCorruptException e)
        {
            _log.Warning("Bad RDB file " + path + " at offset " + e.Offset + ": " + e.Reason + ". Unrecoverable error, aborting now.");
            throw;
        }
        finally
        {
            _dataset.Loading = false;
        }
        _log.Notice("DB loaded from disk: " + watch.Elapsed.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " seconds");
    }

    /// <summary>
    /// Loads an RDB file into the keyspace (inside the loop); a master drops the keys already expired, each
    /// reported to <paramref name="onExpiredDropped"/>. Throws <see cref="RdbCorruptException"/> on bad data.
    /// With <paramref name="letOthersIn"/>, the loop is left for a moment every <see cref="LoadingPauseMs"/> ms, so
    /// that other clients are answered meanwhile (-LOADING but for commands with the loading flag, as Redis's
    /// processEventsWhileBlocked does); the caller must hold the loop exactly once and set <see cref="Loading"/>.
    /// </summary>
    public RdbReader LoadRdbFile(string path, bool letOthersIn = false, KeyEventHandler? onExpiredDropped = null, bool keepExpired = false)
    {
        Debug.Assert(_loop.IsInside);
        Debug.Assert(!letOthersIn || _dataset.Loading, "only a load that others see as loading may let them in");
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        var reader = new RdbReader(file);
        long pausedAt = Environment.TickCount64;
        // Only a master drops the keys whose time has passed. A replica keeps them: its master deletes them
        // with a DEL in the stream, and the stream that follows the file may still read them (a replica
        // restarted on its dump resumes a stream written while they lived). The role is the configured one
        // (slaveof), as Redis's iAmMaster reads masterhost: at startup the dump is loaded before the link to
        // the master exists, so IsReplica would still say master.
        // The base of an append-only log keeps them too (Redis's RDBFLAGS_AOF_PREAMBLE): the commands replayed after it
        // were written while they lived, and a master expires them afterwards with DELs in its stream.
        reader.Load(_keyspace, _keyspace.NowMs, dropExpired: _options.SlaveOf is null && !keepExpired, letOthersIn ? LetOthersIn : null, onExpiredDropped);
        DirtyAtLastSave = _keyspace.Dirty;
        return reader;

        void LetOthersIn()
        {
            long now = Environment.TickCount64;
            if (now - pausedAt < LoadingPauseMs)
                return;
            _loop.Exit();
            // Give the threads waiting at the loop's door the time to take it: the loop's lock is not fair, and
            // a mere yield often lets this thread take it back before a waiter has woken. One millisecond every
            // 50 costs the load 2%.
            Thread.Sleep(1);
            _loop.Enter();
            pausedAt = Environment.TickCount64;
        }
    }

    /// <summary>How long a load may hold the loop before it lets other clients in (Redis processes events every 2 MB).</summary>
    private const int LoadingPauseMs = 50;

    // ------------------------------------------------------------------
    // SAVE
    // ------------------------------------------------------------------

    /// <summary>
    /// SAVE: writes the whole dataset to <see cref="RdbPath"/> now, inside the loop. Returns null on success,
    /// else the error reply's text.
    /// </summary>
    public string? SaveForeground()
    {
        Debug.Assert(_loop.IsInside);
        // A BGSAVE runs until FinishBgsave, not only while it walks the keyspace: after the walk its thread
        // still writes, syncs and renames the same temp file, which a SAVE now would truncate and delete.
        if (_bgsave is not null || _keyspace.IsSnapshotRunning)
            return "ERR Background save already in progress";
        string temp = TempRdbPath;
        try
        {
            using (var file = RdbOutput.CreateFile(temp))
            {
                WriteRdbNow(file);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, RdbPath, overwrite: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            TryDelete(temp);
            _log.Warning("Failed saving the DB: " + e.Message);
            return "ERR";
        }
        _log.Notice("DB saved on disk");
        DirtyAtLastSave = _keyspace.Dirty;
        LastSaveTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        LastBgsaveStatusOk = true;
        _dataset.LastBgsaveFailed = false;
        return null;
    }

    /// <summary>Writes a complete RDB of the dataset to <paramref name="destination"/> in one go (inside the loop).</summary>
    public void WriteRdbNow(Stream destination, RdbHeader? header = null)
    {
        var output = new RdbOutput(destination);
        var writer = new RdbWriter(_options.RdbCompression, 1 << 20, ArrayPool<byte>.Shared);
        try
        {
            writer.WriteHeader(header ?? MakeRdbHeader());
            writer.WriteDatabaseSizes(_keyspace);
            _keyspace.BeginSnapshot(new DirectRdbSink(writer, output));
            try
            {
                while (!_keyspace.ContinueSnapshot(int.MaxValue))
                {
                }
            }
            catch
            {
                if (_keyspace.IsSnapshotRunning)
                    _keyspace.AbortSnapshot();
                throw;
            }
            writer.WriteEof();
            writer.FlushTo(output);
        }
        finally
        {
            writer.ReturnBuffer();
        }
        output.WriteChecksum(_options.RdbChecksum);
        destination.Flush();
    }

    // ------------------------------------------------------------------
    // BGSAVE
    // ------------------------------------------------------------------

    /// <summary>
    /// The BGSAVE command's own methods (its handler, the start inside the loop, the header, the thread's part and the
    /// end back inside the loop), for the startup warm-up to compile ahead (<see cref="SnapshotWarmup.Start"/>): the
    /// warm-up's snapshots compile the walk, not these, and the first BGSAVE of a process compiled some 15 of them
    /// inside the loop (DOTNET_JitDisasmSummary; 2-3 ms of its 3 ms there, later BGSAVEs well under 1 ms).
    /// </summary>
    public static IReadOnlyList<MethodBase> BgsaveMethods()
    {
        const BindingFlags any = BindingFlags.Instance | BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;
        var type = typeof(RdbPersistence);
        return
        [
            PersistenceCommands.BgsaveHandler,
            type.GetMethod(nameof(StartBgsave), any)!,
            type.GetMethod(nameof(MakeRdbHeader), any)!,
            type.GetMethod(nameof(BaseHeader), any)!,
            type.GetMethod(nameof(NextBgsaveTempPath), any)!,
            type.GetMethod(nameof(BgsaveMain), any)!,
            type.GetMethod(nameof(FinishBgsave), any)!,
        ];
    }

    /// <summary>BGSAVE (inside the loop): starts a background save; returns null when started, else the error text.</summary>
    public string? StartBgsave(RdbHeader? header = null, Action<bool>? done = null)
    {
        Debug.Assert(_loop.IsInside);
        if (_bgsave is not null || _keyspace.IsSnapshotRunning)
            return "ERR Background save already in progress";
        _lastBgsaveTryUnix = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        long beginTicks = Stopwatch.GetTimestamp();
        var snapshot = RdbSnapshot.Begin(_loop, _keyspace, header ?? MakeRdbHeader(), _options.RdbCompression);
        LatestForkMicroseconds = (Stopwatch.GetTimestamp() - beginTicks) * 1_000_000 / Stopwatch.Frequency;
        _bgsave = snapshot;
        _bgsaveDone = done;
        _bgsaveStartedMs = Environment.TickCount64;
        long dirtyAtStart = _keyspace.Dirty;
        string temp = NextBgsaveTempPath();
        string target = RdbPath;
        bool checksum = _options.RdbChecksum;
        _log.Notice("Background saving started");
        SnapshotThreads.Shared.Run(() => BgsaveMain(snapshot, temp, target, checksum, dirtyAtStart));
        return null;
    }

    private void BgsaveMain(RdbSnapshot snapshot, string temp, string target, bool checksum, long dirtyAtStart)
    {
        string? error = null;
        try
        {
            using (var file = RdbOutput.CreateFile(temp))
            {
                snapshot.StreamTo(file, checksum);
                file.Flush(flushToDisk: true);
            }
        }
        catch (Exception e)
        {
            error = e is OperationCanceledException ? "cancelled" : e.Message;
            TryDelete(temp);
        }
        _loop.Run(() => FinishBgsave(snapshot, error, dirtyAtStart, temp, target));
    }

    private void FinishBgsave(RdbSnapshot snapshot, string? error, long dirtyAtStart, string temp, string target)
    {
        if (error is not null)
            snapshot.Cancel(); // the walk may not have started (the file could not be created)
        if (_bgsave != snapshot)
        {
            // Cancelled once its walk was over (a shutdown, which then saved in the foreground): its file is
            // older than the dump now in place and must not replace it.
            if (error is null)
                TryDelete(temp);
            return;
        }
        // The rename happens here, inside the loop, so that it is decided together with the cancellation.
        if (error is null)
        {
            try
            {
                File.Move(temp, target, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                error = e.Message;
                TryDelete(temp);
            }
        }
        _bgsave = null;
        LastBgsaveDurationSec = (Environment.TickCount64 - _bgsaveStartedMs) / 1000;
        if (error is null)
        {
            _log.Notice("Background saving terminated with success");
            DirtyAtLastSave = dirtyAtStart;
            LastSaveTime = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            LastBgsaveStatusOk = true;
            _dataset.LastBgsaveFailed = false;
        }
        else
        {
            _log.Warning("Background saving error: " + error);
            LastBgsaveStatusOk = false;
            _dataset.LastBgsaveFailed = true;
        }
        var notify = _bgsaveDone;
        _bgsaveDone = null;
        notify?.Invoke(error is null);
    }

    /// <summary>Stops a running BGSAVE (inside the loop); its temp file is removed, the previous dump stays.</summary>
    public void CancelBgsave()
    {
        Debug.Assert(_loop.IsInside);
        var snapshot = _bgsave;
        if (snapshot is null)
            return;
        _log.Warning("There is a child saving an .rdb. Killing it!");
        snapshot.Cancel();
        _bgsave = null;
        _bgsaveDone = null;
        LastBgsaveDurationSec = (Environment.TickCount64 - _bgsaveStartedMs) / 1000;
    }

    /// <summary>The cron's check of the <c>save</c> points (Redis's serverCron).</summary>
    public void CheckSavePoints()
    {
        if (_bgsave is not null || _keyspace.IsSnapshotRunning || _options.Save.Count == 0)
            return;
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        long changes = _keyspace.Dirty - DirtyAtLastSave;
        foreach (var point in _options.Save)
        {
            // After a failed BGSAVE, retry only every 5 seconds.
            if (changes >= point.Changes && now - LastSaveTime > point.Seconds && (LastBgsaveStatusOk || now - _lastBgsaveTryUnix > 5))
            {
                _log.Notice(changes + " changes in " + point.Seconds + " seconds. Saving...");
                StartBgsave();
                return;
            }
        }
    }

    // ------------------------------------------------------------------
    // Shutdown and DEBUG RELOAD
    // ------------------------------------------------------------------

    /// <summary>
    /// The persistence part of SHUTDOWN and SIGTERM: stops a running BGSAVE and, when <paramref name="save"/>
    /// is true (SAVE) or null with save points configured, saves in the foreground. Returns false when that
    /// save failed (SHUTDOWN then answers "ERR Errors trying to SHUTDOWN. Check logs." and the server stays up).
    /// Callable inside or outside the loop.
    /// </summary>
    public bool SaveOnShutdown(bool? save = null)
    {
        if (!_loop.IsInside)
        {
            bool result = false;
            _loop.Run(() => result = SaveOnShutdown(save));
            return result;
        }
        CancelBgsave();
        // A dataset half loaded must never become the dump (Redis shuts down without saving while it loads).
        if (_dataset.Loading)
        {
            _log.Warning("Shutting down while loading: not saving the partly loaded dataset.");
            return true;
        }
        if (!(save ?? _options.Save.Count > 0))
            return true;
        _log.Notice("Saving the final RDB snapshot before exiting.");
        if (SaveForeground() is not null)
        {
            _log.Warning("Error trying to save the DB, can't exit.");
            return false;
        }
        return true;
    }

    /// <summary>DEBUG RELOAD (inside the loop): save, empty the keyspace, load the dump back. Returns null or the error text.</summary>
    public string? DebugReload()
    {
        if (_dataset.Loading)
            return "LOADING Redis is loading the dataset in memory";
        if (SaveForeground() is not null)
            return "ERR Error trying to save the DB";
        _keyspace.FlushAll();
        try
        {
            LoadRdbFile(RdbPath);
        }
        catch (Exception e) when (e is RdbCorruptException or IOException)
        {
            _log.Warning("Error loading the RDB back: " + e.Message);
            return "ERR Error trying to load the RDB dump, check server logs.";
        }
        _log.Notice("DB reloaded by DEBUG RELOAD");
        return null;
    }

    private void TryDelete(string path)
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

    // ------------------------------------------------------------------
    // Full synchronization (replication's side of persistence)
    // ------------------------------------------------------------------

    /// <summary>True while a snapshot (BGSAVE, or a diskless full sync's walk) is being written.</summary>
    public bool SnapshotInProgress => BgsaveInProgress || _keyspace.IsSnapshotRunning;

    /// <summary>
    /// Starts a background snapshot into the dump file recording <paramref name="point"/>; its instant is this
    /// call. When the file is complete (or failed), <paramref name="done"/> runs inside the loop with its path,
    /// or null and the reason. Returns false (and never calls <paramref name="done"/>) when a snapshot runs.
    /// </summary>
    public bool TryStartSnapshot(ReplicationPoint point, Action<string?, string?> done)
    {
        if (SnapshotInProgress)
            return false;
        return StartBgsave(BaseHeader().WithReplication(point), ok => done(ok ? RdbPath : null, ok ? null : "background save failed")) is null;
    }

    /// <summary>
    /// Takes a snapshot's instant now and returns a writer that streams the whole RDB (header recording
    /// <paramref name="point"/>, keys, EOF, checksum) to a stream, to be called outside the loop (diskless full
    /// sync). Null when a snapshot is running.
    /// </summary>
    public Action<Stream>? TryStartStreaming(ReplicationPoint point)
    {
        if (SnapshotInProgress)
            return null;
        var snapshot = RdbSnapshot.Begin(_loop, _keyspace, BaseHeader().WithReplication(point), _options.RdbCompression);
        bool checksum = _options.RdbChecksum;
        return stream => snapshot.StreamTo(stream, checksum);
    }

    /// <summary>
    /// Replaces the whole dataset with the RDB file at <paramref name="path"/> (a full sync's payload) and returns
    /// the replication point it records. Throws when the file cannot be loaded (<see cref="RdbCorruptException"/>
    /// for bad or unsupported data); the dataset then holds what was loaded before the failure, which the caller
    /// must discard. The caller holds the loop once: the load leaves it now and then, so that other clients get
    /// -LOADING.
    /// </summary>
    public ReplicationPoint? LoadReplacingDataset(string path)
    {
        _keyspace.FlushAll();
        _dataset.Loading = true;
        try
        {
            return LoadRdbFile(path, letOthersIn: true).Replication;
        }
        finally
        {
            _dataset.Loading = false;
        }
    }


    // ------------------------------------------------------------------
    // Stale temp files
    // ------------------------------------------------------------------

    /// <summary>
    /// Deletes the <c>temp-&lt;pid&gt;[-&lt;n&gt;].rdb</c> files in <c>dir</c> that a save of a process no longer running left
    /// behind (a save killed half-way): nothing will ever rename them, and they can be as large as the dataset.
    /// A file of a process that is still alive (another server sharing the directory) is left alone.
    /// </summary>
    public void RemoveStaleTempFiles()
    {
        string[] files;
        try
        {
            files = Directory.GetFiles(_options.Dir, "temp-*.rdb");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (var path in files)
        {
            // temp-<pid>.rdb (SAVE) or temp-<pid>-<n>.rdb (BGSAVE).
            var name = Path.GetFileNameWithoutExtension(path.AsSpan())["temp-".Length..];
            int dash = name.IndexOf('-');
            if (!int.TryParse(dash < 0 ? name : name[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                continue;
            // Our own pid cannot have saved yet: a file with it is a dead process's whose pid was reused.
            if (pid != Environment.ProcessId && IsProcessAlive(pid))
                continue;
            try
            {
                File.Delete(path);
                _log.Notice("Removed the stale temp file " + Path.GetFileName(path) + " (its process is gone)");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                _log.Warning("Could not remove the stale temp file " + path + ": " + e.Message);
            }
        }
    }

    private static bool IsProcessAlive(int pid)
    {
        if (OperatingSystem.IsLinux())
            return Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
