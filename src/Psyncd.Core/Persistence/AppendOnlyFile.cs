using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Rdb;
using Psyncd.Storage;

namespace Psyncd.Persistence;

/// <summary>
/// The durable replication log (<c>appendonly yes</c>), in Redis 7.0's multi-part AOF layout: in
/// <c>dir</c>/<c>appenddirname</c>, a manifest, a base (an RDB of the dataset at some stream offset) and incremental
/// files holding the replication stream's bytes after it, exactly as replicas receive them.
/// </summary>
/// <remarks>
/// <para>The one propagation point (the replication stream) hands every byte it produces to <see cref="Append"/>. The loop
/// holds every output while such bytes wait (<see cref="IDurableLog"/>), and at the end of a pass of the event loop
/// (group commit: every connection served in the pass) <see cref="Commit"/> writes them to the current incremental file in
/// one write, and with <c>appendfsync always</c> syncs it there once, before any of the pass's replies leaves (so an
/// acknowledged write is on disk). With <c>everysec</c> a thread of its own syncs once a second, never holding the loop.</para>
/// <para>Offsets: each incremental file's manifest line records the stream offset it begins after (<c>psyncd-offset</c>),
/// so the file's byte <c>Skip + i</c> is stream byte <c>StartOffset + 1 + i</c>, and the replication id in effect
/// (<c>psyncd-replid</c>). A file that begins while the stream is in a database other than the one a loader starts in
/// opens with a SELECT that is not part of the stream (<c>psyncd-skip</c>): redis-server, which ignores psyncd's keys,
/// still replays every command in its database.</para>
/// <para>A rewrite (BGREWRITEAOF) starts a new incremental file at its instant and writes a new base from a fork-free
/// snapshot; the older incremental files then become history (type <c>h</c>), kept to serve PSYNC until
/// <c>repl-log-retention-size</c> or <c>repl-log-retention-files</c> is exceeded.</para>
/// </remarks>
public sealed partial class AppendOnlyFile : IDurableLog
{
    private readonly CommandLoop _loop;
    private readonly Keyspace _keyspace;
    private readonly ServerOptions _options;
    private readonly ServerLog _log;
    private readonly RdbPersistence _rdb;
    private readonly CommandProcessor _processor;
    private readonly ClientRegistry _registry;

    /// <summary>Stream bytes produced during the current batch, written at its end (Redis's aof_buf).</summary>
    private readonly ByteBufferWriter _buffer = new(64 * 1024);

    /// <summary>Guards the hand-over of file handles between the loop and the fsync thread (never held during I/O).</summary>
    private readonly Lock _handles = new();

    /// <summary>Files no longer appended to, synced and closed by the fsync thread (the loop never waits for them).</summary>
    private readonly List<SafeFileHandle> _retired = new();

    private readonly AutoResetEvent _wake = new(false);

    private AofManifest _manifest = new();

    /// <summary>The incremental file being appended to; null while the log is off.</summary>
    private SafeFileHandle? _incr;

    /// <summary>Bytes in the current incremental file.</summary>
    private long _incrLength;

    /// <summary>Set when bytes were written since the last fsync (read by the fsync thread).</summary>
    private volatile bool _unsynced;

    private Thread? _fsyncThread;
    private volatile bool _running;

    public AppendOnlyFile(CommandLoop loop, Keyspace keyspace, ServerOptions options, ServerLog log, RdbPersistence rdb,
        CommandProcessor processor, ClientRegistry registry)
    {
        _loop = loop;
        _keyspace = keyspace;
        _options = options;
        _log = log;
        _rdb = rdb;
        _processor = processor;
        _registry = registry;
    }

    /// <summary>Replication's side: where the stream is (set by the root, replication being built after persistence).</summary>
    public IReplicationHistory? History { get; set; }

    /// <summary>True while every stream byte is appended to the log.</summary>
    public bool IsOn => _incr is not null;

    /// <summary>INFO's aof_current_size: the base and incremental files loaded or written, plus everything appended since.</summary>
    public long CurrentSize { get; private set; }

    /// <summary>INFO's aof_base_size: <see cref="CurrentSize"/> at the last load or rewrite.</summary>
    public long BaseSize { get; private set; }

    /// <summary>INFO's aof_last_write_status.</summary>
    public bool LastWriteOk { get; private set; } = true;

    /// <summary>INFO's aof_buffer_length: bytes produced and not written yet.</summary>
    public long BufferLength => _buffer.Length;

    /// <summary>INFO's aof_pending_bio_fsync: 1 while written bytes wait for the background fsync.</summary>
    public bool FsyncPending => _unsynced && _options.AppendFsync == AppendFsync.EverySec;

    /// <summary>The directory of the log.</summary>
    public string DirPath => Path.Combine(_options.Dir, _options.AppendDirname);

    public string ManifestPath => Path.Combine(DirPath, _options.AppendFilename + ".manifest");

    /// <summary>The manifest as last written (tests and INFO read it).</summary>
    public AofManifest Manifest => _manifest;

    // ------------------------------------------------------------------
    // Appending
    // ------------------------------------------------------------------

    /// <summary>Stream bytes, in order (inside the loop, from the replication stream).</summary>
    public void Append(ReadOnlySpan<byte> bytes) => _buffer.WriteRaw(bytes);

    /// <summary>
    /// Bytes wait for their write, so outputs are held. Not after a failed write: replies then leave as before the error
    /// (redis-server also keeps answering, and retries the write in each beforeSleep: <see cref="RetryFailedWrite"/>).
    /// </summary>
    public bool HasUncommitted => _incr is not null && _buffer.Length > 0 && LastWriteOk;

    public void Commit() => FlushBuffer();

    /// <summary>An exit hook: after a failed write, every batch tries again.</summary>
    public void RetryFailedWrite()
    {
        if (!LastWriteOk)
            FlushBuffer();
    }

    /// <summary>
    /// The end of a loop batch, before replies are flushed: writes what the batch produced, and syncs it with
    /// <c>appendfsync always</c>. A failed write keeps the bytes for the next batch (Redis retries too).
    /// </summary>
    public void FlushBuffer()
    {
        var incr = _incr;
        if (incr is null || _buffer.Length == 0)
            return;
        var bytes = _buffer.WrittenSpan;
        try
        {
            RandomAccess.Write(incr, bytes, _incrLength);
        }
        catch (IOException e)
        {
            if (LastWriteOk)
                _log.Warning("Error writing to the AOF file: " + e.Message);
            LastWriteOk = false;
            return;
        }
        if (!LastWriteOk)
            _log.Warning("AOF write error looks solved, Redis can write again.");
        LastWriteOk = true;
        _incrLength += bytes.Length;
        CurrentSize += bytes.Length;
        _buffer.Clear();
        if (_options.AppendFsync == AppendFsync.Always)
            Fsync(incr);
        else
            _unsynced = true;
    }

    // ------------------------------------------------------------------
    // Opening, rotating, closing
    // ------------------------------------------------------------------

    /// <summary>
    /// Starts appending after the files listed in <see cref="_manifest"/> were loaded (inside the loop): an empty log
    /// gets a base of the current dataset written now (as redis-server 7.0 does on a first start), a log without an
    /// incremental file gets one, else the last one is appended to.
    /// </summary>
    private void OpenAfterLoad()
    {
        Directory.CreateDirectory(DirPath);
        var point = CurrentPoint();
        if (_manifest.Base is null && _manifest.Incr.Count == 0)
        {
            string name = WriteBaseNow(point);
            _log.Notice("Creating AOF base file " + name + " on server start");
        }
        if (_manifest.Incr.Count == 0)
        {
            var (handle, info) = CreateIncr(point);
            _manifest.Incr.Add(info);
            WriteManifest();
            StartAppending(handle, info.Skip);
            _log.Notice("Creating AOF incr file " + info.Name + " on server start");
            return;
        }
        var last = _manifest.Incr[^1];
        var path = Path.Combine(DirPath, last.Name);
        var existing = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite);
        StartAppending(existing, RandomAccess.GetLength(existing));
        NoteReplId(point.ReplId);
    }

    private void StartAppending(SafeFileHandle handle, long length)
    {
        lock (_handles)
            _incr = handle;
        _incrLength = length;
        if (_fsyncThread is null)
        {
            _running = true;
            _fsyncThread = new Thread(FsyncMain) { IsBackground = true, Name = "psyncd aof fsync" };
            _fsyncThread.Start();
        }
    }

    /// <summary>Writes a base of the dataset now, in the loop (a first start: the dataset is what was loaded, usually nothing).</summary>
    private string WriteBaseNow(ReplicationPoint point)
    {
        long seq = ++_manifest.BaseSeq;
        string name = AofManifest.BaseName(_options.AppendFilename, seq, rdb: true);
        string path = Path.Combine(DirPath, name);
        using (var file = RdbOutput.CreateFile(path))
        {
            _rdb.WriteRdbNow(file, BaseHeader(point));
            file.Flush(flushToDisk: true);
        }
        _manifest.Base = new AofFileInfo(name, seq, AofFileType.Base, point.Offset, point.ReplId);
        return name;
    }

    private RdbHeader BaseHeader(ReplicationPoint point) =>
        _rdb.BaseHeader().WithReplication(point with { StreamDb = Math.Max(0, point.StreamDb) }) with { AofBase = true };

    /// <summary>
    /// From now on the stream goes to <paramref name="handle"/> (holding <paramref name="length"/> bytes already); the
    /// previous file is synced and closed by the fsync thread, so the loop never waits for it.
    /// </summary>
    private void SwitchTo(SafeFileHandle handle, long length)
    {
        lock (_handles)
        {
            if (_incr is not null)
                _retired.Add(_incr);
        }
        StartAppending(handle, length);
        _wake.Set();
    }

    /// <summary>Creates the next incremental file, beginning after stream offset <paramref name="point"/>.Offset.</summary>
    private (SafeFileHandle Handle, AofFileInfo Info) CreateIncr(ReplicationPoint point)
    {
        long seq = ++_manifest.IncrSeq;
        return CreateIncrFile(AofManifest.IncrName(_options.AppendFilename, seq), seq, point);
    }

    /// <summary>Creates an incremental file named <paramref name="name"/> whose stream begins after <paramref name="point"/>.Offset.</summary>
    private (SafeFileHandle Handle, AofFileInfo Info) CreateIncrFile(string name, long seq, ReplicationPoint point)
    {
        var handle = File.OpenHandle(Path.Combine(DirPath, name), FileMode.Create, FileAccess.Write, FileShare.ReadWrite);
        int skip = 0;
        if (point.StreamDb >= 0)
        {
            // The stream is in a database already: a loader, which starts in 0, is put there by a SELECT of its own.
            var select = SelectCommand(point.StreamDb);
            RandomAccess.Write(handle, select, 0);
            skip = select.Length;
        }
        return (handle, new AofFileInfo(name, seq, AofFileType.Incr, point.Offset, point.ReplId, skip));
    }

    private static byte[] SelectCommand(int db)
    {
        string text = db.ToString(CultureInfo.InvariantCulture);
        return Encoding.ASCII.GetBytes("*2\r\n$6\r\nSELECT\r\n$" + text.Length.ToString(CultureInfo.InvariantCulture) + "\r\n" + text + "\r\n");
    }

    /// <summary>Where the stream is now; without replication (tests that build the log alone) offset 0 of no history.</summary>
    private ReplicationPoint CurrentPoint() => History?.CurrentPoint() ?? new ReplicationPoint(new string('0', 40), 0, -1);

    /// <summary>
    /// Ends the current incremental file at the stream's current point and starts the next (inside the loop). The
    /// old file is synced and closed by the fsync thread. Returns the point the new file begins after.
    /// </summary>
    private ReplicationPoint Rotate()
    {
        FlushBuffer();
        var point = CurrentPoint();
        var (handle, info) = CreateIncr(point);
        _manifest.Incr.Add(info);
        WriteManifest();
        SwitchTo(handle, info.Skip);
        return point;
    }

    /// <summary>
    /// A replica's full sync replaced the dataset and the history (inside the loop): the payload just loaded becomes
    /// the new base, the stream that follows goes to a new incremental file beginning at <paramref name="point"/>,
    /// and every older file goes (their offsets belong to a history this server no longer continues).
    /// </summary>
    public void StartOverFrom(string rdbPath, ReplicationPoint point)
    {
        if (!IsOn)
            return;
        CancelRewrite();
        FlushBuffer();
        _buffer.Clear();
        var old = new List<string>(_stale);
        _stale.Clear();
        if (_waitingFirstBase && _tempIncr is { } temp)
            old.Add(temp.Name);
        _waitingFirstBase = false;
        _tempIncr = null;
        if (_manifest.Base is { } b)
            old.Add(b.Name);
        old.AddRange(_manifest.History.Select(h => h.Name));
        old.AddRange(_manifest.Incr.Select(i => i.Name));
        long seq = ++_manifest.BaseSeq;
        string name = AofManifest.BaseName(_options.AppendFilename, seq, rdb: true);
        LinkOrCopy(rdbPath, FilePath(name));
        _manifest.Base = new AofFileInfo(name, seq, AofFileType.Base, point.Offset, point.ReplId);
        _manifest.History.Clear();
        _manifest.Incr.Clear();
        var (handle, info) = CreateIncr(point);
        _manifest.Incr.Add(info);
        WriteManifest();
        SwitchTo(handle, info.Skip);
        foreach (var file in old)
            DeleteFile(file);
        CurrentSize = BaseSize = new FileInfo(FilePath(name)).Length + info.Skip;
        _log.Notice("The append only file starts over from the full sync's payload: " + name + ", " + info.Name);
    }

    /// <summary>A hard link when the file system allows it (no copy of a large payload inside the loop), else a copy.</summary>
    private static void LinkOrCopy(string source, string target)
    {
        if (File.Exists(target))
            File.Delete(target);
        if (OperatingSystem.IsLinux() && link(source, target) == 0)
            return;
        File.Copy(source, target, overwrite: true);
    }

    private void DeleteFile(string name)
    {
        try
        {
            File.Delete(FilePath(name));
            _log.Notice("Removing the history file " + name + " in the background");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning("Could not remove " + name + ": " + e.Message);
        }
    }

    /// <summary>Records a new replication id on the current incremental file's line (so a restart continues the right history).</summary>
    public void NoteReplId(string replId)
    {
        if (_waitingFirstBase && _tempIncr is { } temp)
        {
            // Not in the manifest yet: the line is written with the base.
            _tempIncr = temp with { ReplId = replId };
            return;
        }
        if (!IsOn || _manifest.Incr.Count == 0 || _manifest.Incr[^1].ReplId == replId)
            return;
        _manifest.Incr[^1] = _manifest.Incr[^1] with { ReplId = replId };
        WriteManifest();
    }

    /// <summary>Writes the manifest through a temporary file, synced and renamed over the old one.</summary>
    private void WriteManifest()
    {
        string temp = Path.Combine(DirPath, "temp-" + _options.AppendFilename + ".manifest");
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None))
        {
            file.Write(Encoding.UTF8.GetBytes(_manifest.Format()));
            file.Flush(flushToDisk: true);
        }
        File.Move(temp, ManifestPath, overwrite: true);
        FsyncDirectory(DirPath);
    }

    /// <summary>Shutdown (and <c>appendonly no</c>): writes what is pending, syncs, closes. The files stay.</summary>
    public void Close()
    {
        Debug.Assert(_loop.IsInside);
        FlushBuffer();
        SafeFileHandle? incr;
        lock (_handles)
        {
            incr = _incr;
            _incr = null;
            if (incr is not null)
                _retired.Add(incr);
        }
        _buffer.Clear();
        _running = false;
        _wake.Set();
        _fsyncThread?.Join(TimeSpan.FromSeconds(10));
        _fsyncThread = null;
        SyncRetired();
    }

    // ------------------------------------------------------------------
    // fsync
    // ------------------------------------------------------------------

    private void FsyncMain()
    {
        while (_running)
        {
            _wake.WaitOne(1000);
            if (_unsynced && _options.AppendFsync == AppendFsync.EverySec)
            {
                _unsynced = false;
                SafeFileHandle? incr;
                lock (_handles)
                    incr = _incr;
                // Closed only by this thread (through _retired), so the handle stays valid while it is synced.
                if (incr is not null)
                    Fsync(incr);
            }
            SyncRetired();
        }
    }

    private void SyncRetired()
    {
        List<SafeFileHandle> retired;
        lock (_handles)
        {
            if (_retired.Count == 0)
                return;
            retired = new List<SafeFileHandle>(_retired);
            _retired.Clear();
        }
        foreach (var handle in retired)
        {
            if (_options.AppendFsync != AppendFsync.No)
                Fsync(handle);
            handle.Dispose();
        }
    }

    private void Fsync(SafeFileHandle handle)
    {
        bool added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            if (fdatasync((int)handle.DangerousGetHandle()) != 0)
                _log.Warning("Can't fsync the AOF file: errno " + Marshal.GetLastPInvokeError());
        }
        catch (ObjectDisposedException)
        {
            // Closed meanwhile by the shutdown, which synced it.
        }
        finally
        {
            if (added)
                handle.DangerousRelease();
        }
    }

    /// <summary>Makes a rename in <paramref name="dir"/> durable (the directory's own entry must reach the disk too).</summary>
    private static void FsyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux())
            return;
        int fd = open(dir, 0 /* O_RDONLY */);
        if (fd < 0)
            return;
        fsync(fd);
        close(fd);
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int fdatasync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int open(string path, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int link(string oldPath, string newPath);
}
