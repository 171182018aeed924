using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Rdb;
using Psyncd.Text;

namespace Psyncd.Persistence;

/// <summary>Thrown when the log cannot be loaded at startup (already logged as redis-server logs it); the server exits with 1.</summary>
public sealed class AofLoadException(string message) : Exception(message);

/// <summary>Loading the log at startup: the base, then each incremental file replayed as a replica applies its master's stream.</summary>
public sealed partial class AppendOnlyFile
{
    private enum ReplayStatus
    {
        Ok,
        Truncated,
    }

    /// <summary>Stream offsets the files hold, per incremental file (for PSYNC from disk and the backlog after a restart).</summary>
    public long FilesCount => (_manifest.Base is null ? 0 : 1) + _manifest.History.Count + _manifest.Incr.Count;

    /// <summary>
    /// Startup with <c>appendonly yes</c> (instead of the RDB, as redis-server does): loads the manifest's base and
    /// incremental files, gives replication the point they end at (its id, the exact offset, the stream's database),
    /// and starts appending. Throws <see cref="AofLoadException"/> when the log cannot be loaded.
    /// </summary>
    public void LoadAtStartup()
    {
        var watch = Stopwatch.StartNew();
        _loop.Run(() =>
        {
            _manifest = ReadManifest() ?? new AofManifest();
            if (IsOldStyleStart())
                UpgradeOldStyle();
            if (_manifest.Base is not null || _manifest.Incr.Count > 0)
            {
                // Files that are all empty load nothing, but the load is logged as redis-server logs it.
                var end = CheckFilesAndSize() > 0 ? LoadFiles() : null;
                _rdb.MarkClean();
                _log.Notice("DB loaded from append only file: " + watch.Elapsed.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " seconds");
                if (end is { } point && History is { } history)
                    history.Restore(point);
            }
            OpenAfterLoad();
        });
    }

    /// <summary>The single file of Redis before 7.0 (<c>dir/appendfilename</c>), with no multi-part log in its place.</summary>
    private string OldStylePath => Path.Combine(_options.Dir, _options.AppendFilename);

    /// <summary>
    /// redis-server 7.0's three cases of an upgrade from a single-file AOF, when <c>dir/appendfilename</c> exists: no
    /// <c>appenddirname</c>; a directory whose manifest lists no file; or one that lists only a base of that name, not
    /// there yet (a crash between the manifest's write and the move).
    /// </summary>
    private bool IsOldStyleStart()
    {
        if (!File.Exists(OldStylePath))
            return false;
        return !Directory.Exists(DirPath)
            || (_manifest.Base is null && _manifest.Incr.Count == 0)
            || (_manifest.Base is { } b && _manifest.Incr.Count == 0 && b.Name == _options.AppendFilename && !File.Exists(FilePath(b.Name)));
    }

    /// <summary>
    /// The upgrade, in redis-server 7.0's order so that a crash at any step is redone at the next start: the directory,
    /// a manifest whose base is the old file (by its own name, sequence 1), then the file moved into the directory.
    /// </summary>
    private void UpgradeOldStyle()
    {
        try
        {
            Directory.CreateDirectory(DirPath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning("Can't open or create append-only dir " + _options.AppendDirname + ": " + e.Message);
            throw new AofLoadException("Can't open or create append-only dir " + _options.AppendDirname);
        }
        _manifest.Base = new AofFileInfo(_options.AppendFilename, 1, AofFileType.Base);
        _manifest.BaseSeq = 1;
        WriteManifest();
        try
        {
            File.Move(OldStylePath, FilePath(_options.AppendFilename));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning("Error trying to move the old AOF file " + _options.AppendFilename + " into dir " + _options.AppendDirname + ": " + e.Message);
            throw new AofLoadException("Error trying to move the old AOF file " + _options.AppendFilename + " into dir " + _options.AppendDirname);
        }
        _log.Notice("Successfully migrated an old-style AOF file (" + _options.AppendFilename + ") into the AOF directory (" + _options.AppendDirname + ").");
    }

    /// <summary>
    /// As redis-server 7.0 before it loads anything: every file the manifest lists as base or incremental must exist (else
    /// its stat error and exit 1); returns their total size (0: nothing to load, as its AOF_EMPTY).
    /// </summary>
    private long CheckFilesAndSize()
    {
        long total = 0;
        var files = new List<AofFileInfo>(_manifest.Incr.Count + 1);
        if (_manifest.Base is { } b)
            files.Add(b);
        files.AddRange(_manifest.Incr);
        foreach (var file in files)
        {
            var info = new FileInfo(FilePath(file.Name));
            if (!info.Exists)
            {
                _log.Warning("Unable to obtain the AOF file " + file.Name + " length. stat: No such file or directory");
                throw new AofLoadException("The append log file " + file.Name + " doesn't exist");
            }
            total += info.Length;
        }
        return total;
    }

    private AofManifest? ReadManifest()
    {
        if (!File.Exists(ManifestPath))
            return null;
        try
        {
            return AofManifest.Parse(File.ReadAllBytes(ManifestPath));
        }
        catch (AofManifestException e)
        {
            _log.Warning("\n*** FATAL AOF MANIFEST FILE ERROR ***\n");
            if (e.Line > 0)
            {
                _log.Warning("Reading the manifest file, at line " + e.Line + "\n");
                _log.Warning(">>> '" + e.Text + "'\n");
            }
            _log.Warning(e.Message + "\n");
            throw new AofLoadException(e.Message);
        }
    }

    /// <summary>Loads the base and the incremental files; returns the replication point where they end, or null when unknown.</summary>
    private ReplicationPoint? LoadFiles()
    {
        int files = (_manifest.Base is null ? 0 : 1) + _manifest.Incr.Count;
        int loaded = 0;
        ReplicationPoint? end = null;
        if (_manifest.Base is { } baseInfo)
        {
            string path = FilePath(baseInfo.Name);
            var watch = Stopwatch.StartNew();
            bool last = ++loaded == files;
            if (IsRdb(path))
            {
                _log.Notice("Reading RDB base file on AOF loading...");
                RdbReader reader;
                try
                {
                    reader = _rdb.LoadRdbFile(path, keepExpired: true);
                }
                catch (RdbCorruptException e)
                {
                    _log.Warning("Error reading the RDB base file " + baseInfo.Name + ", AOF loading aborted");
                    throw new AofLoadException("Bad RDB base file " + baseInfo.Name + " at offset " + e.Offset + ": " + e.Reason);
                }
                end = reader.Replication is { } p ? p : null;
                if (baseInfo.StartOffset >= 0 && baseInfo.ReplId is not null)
                    end = new ReplicationPoint(baseInfo.ReplId, baseInfo.StartOffset, end?.StreamDb ?? 0);
            }
            else
            {
                var (status, _, db) = Replay(path, baseInfo.Name, last);
                if (status == ReplayStatus.Truncated && !last)
                    throw TruncatedNotLast();
                end = baseInfo.StartOffset >= 0 && baseInfo.ReplId is not null ? new ReplicationPoint(baseInfo.ReplId, baseInfo.StartOffset, db) : null;
            }
            _log.Notice("DB loaded from base file " + baseInfo.Name + ": " + Seconds(watch));
        }
        foreach (var incr in _manifest.Incr)
        {
            string path = FilePath(incr.Name);
            var watch = Stopwatch.StartNew();
            bool last = ++loaded == files;
            var (status, valid, db) = Replay(path, incr.Name, last);
            if (status == ReplayStatus.Truncated && !last)
                throw TruncatedNotLast();
            string? replId = incr.ReplId ?? end?.ReplId;
            end = incr.StartOffset >= 0 && replId is not null
                ? new ReplicationPoint(replId, incr.StartOffset + Math.Max(0, valid - incr.Skip), db)
                : null;
            _log.Notice("DB loaded from incr file " + incr.Name + ": " + Seconds(watch));
        }
        CurrentSize = BaseSize = SizeOfLoadedFiles();
        return end;
    }

    private long SizeOfLoadedFiles()
    {
        long size = 0;
        if (_manifest.Base is { } b && File.Exists(FilePath(b.Name)))
            size += new FileInfo(FilePath(b.Name)).Length;
        foreach (var incr in _manifest.Incr)
        {
            if (File.Exists(FilePath(incr.Name)))
                size += new FileInfo(FilePath(incr.Name)).Length;
        }
        return size;
    }

    private AofLoadException TruncatedNotLast()
    {
        _log.Warning("Fatal error: the truncated file is not the last file");
        return new AofLoadException("the truncated file is not the last file");
    }

    private static string Seconds(Stopwatch watch) => watch.Elapsed.TotalSeconds.ToString("0.000", CultureInfo.InvariantCulture) + " seconds";

    private string FilePath(string name) => Path.Combine(DirPath, name);

    private static bool IsRdb(string path)
    {
        using var file = File.OpenRead(path);
        Span<byte> sig = stackalloc byte[5];
        return file.ReadAtLeast(sig, 5, throwOnEndOfStream: false) == 5 && sig.SequenceEqual("REDIS"u8);
    }

    /// <summary>
    /// Replays a file of commands with a client that acts as a master's link (nothing is propagated, nothing expires on
    /// its own). Returns how far the file is valid and the database the stream is in at that point. A tail cut by a
    /// crash (or a MULTI without its EXEC) is cut off the file when <c>aof-load-truncated</c> allows it; bad bytes in
    /// the middle stop the load.
    /// </summary>
    private (ReplayStatus Status, long ValidLength, int Db) Replay(string path, string name, bool last)
    {
        var client = new Client(new ClientOutput(_loop), null, null);
        client.Flags |= ClientFlags.Master;
        client.Output.TrackErrors = true;
        _registry.AddClient(client);
        client.Authenticated = true;
        var parser = new RequestParser { MaxBulkLength = long.MaxValue };
        byte[] buffer = ArrayPool<byte>.Shared.Rent(1 << 20);
        long bufferAt = 0; // file offset of buffer[0]
        int start = 0, end = 0;
        long validUpTo = 0, validBeforeMulti = 0;
        bool eof = false;
        bool inMulti = false;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1, FileOptions.SequentialScan);
            while (true)
            {
                while (start < end)
                {
                    var input = buffer.AsSpan(start, end - start);
                    if (input[0] == (byte)'#')
                    {
                        // An annotation line (Redis's #TS:...): skipped.
                        int newline = input.IndexOf((byte)'\n');
                        if (newline < 0)
                            break;
                        start += newline + 1;
                        validUpTo = bufferAt + start;
                        continue;
                    }
                    if (input[0] != (byte)'*')
                        throw FormatError(name, bufferAt + start);
                    var status = parser.TryParse(input, out int consumed);
                    if (status == ParseStatus.Incomplete)
                    {
                        if (parser.MinimumBytesNeeded > buffer.Length)
                            buffer = Grow(buffer, start, end, (int)Math.Min(int.MaxValue, parser.MinimumBytesNeeded), ref bufferAt, ref start, ref end);
                        break;
                    }
                    if (status == ParseStatus.Error || parser.Args.Length == 0)
                        throw FormatError(name, bufferAt + start);
                    var request = input[..consumed];
                    var args = new CommandArgs(request, parser.Args);
                    if (Keyword.Is(args[0], "multi"u8))
                        validBeforeMulti = validUpTo;
                    _processor.Execute(client, args, request);
                    if (client.Output.LastError is { } error)
                    {
                        client.Output.LastError = null;
                        if (error.StartsWith("ERR unknown command", StringComparison.Ordinal))
                        {
                            _log.Warning("Unknown command '" + Encoding.UTF8.GetString(args[0]) + "' reading the append only file " + name);
                            throw new AofLoadException("Unknown command reading the append only file " + name + " at offset " + (bufferAt + start));
                        }
                    }
                    start += consumed;
                    validUpTo = bufferAt + start;
                }
                if (eof)
                    break;
                // Keep the unparsed tail, then read more after it.
                if (start > 0)
                {
                    buffer.AsSpan(start, end - start).CopyTo(buffer);
                    bufferAt += start;
                    end -= start;
                    start = 0;
                }
                if (end == buffer.Length)
                    buffer = Grow(buffer, start, end, buffer.Length * 2, ref bufferAt, ref start, ref end);
                int read = file.Read(buffer, end, buffer.Length - end);
                if (read == 0)
                    eof = true;
                end += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            inMulti = client.MultiQueue is not null;
            client.MultiQueue = null;
            _registry.RemoveClient(client, null);
        }
        int db = client.Db;
        bool complete = start == end;
        if (inMulti)
        {
            _log.Warning("Revert incomplete MULTI/EXEC transaction in AOF file " + name);
            validUpTo = validBeforeMulti;
            complete = false;
        }
        if (complete)
            return (ReplayStatus.Ok, validUpTo, db);
        if (!_options.AofLoadTruncated)
        {
            _log.Warning("Unexpected end of file reading the append only file " + name + ". You can: " +
                "1) Make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>. " +
                "2) Alternatively you can set the 'aof-load-truncated' configuration option to yes and restart the server.");
            throw new AofLoadException("Unexpected end of file reading the append only file " + name + " at offset " + validUpTo);
        }
        _log.Warning("!!! Warning: short read while loading the AOF file " + name + "!!!");
        _log.Warning("!!! Truncating the AOF " + name + " at offset " + validUpTo + " !!!");
        using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite))
        {
            file.SetLength(validUpTo);
            file.Flush(flushToDisk: true);
        }
        _log.Warning("AOF " + name + " loaded anyway because aof-load-truncated is enabled");
        return (ReplayStatus.Truncated, validUpTo, db);
    }

    private static byte[] Grow(byte[] buffer, int start, int end, int size, ref long bufferAt, ref int newStart, ref int newEnd)
    {
        var bigger = ArrayPool<byte>.Shared.Rent(Math.Max(size, end - start));
        buffer.AsSpan(start, end - start).CopyTo(bigger);
        ArrayPool<byte>.Shared.Return(buffer);
        bufferAt += start;
        newEnd = end - start;
        newStart = 0;
        return bigger;
    }

    private AofLoadException FormatError(string name, long offset)
    {
        // redis-server's one line; the offset is in the exception's message, the start's last line.
        _log.Warning("Bad file format reading the append only file " + name + ": make a backup of your AOF file, then use ./redis-check-aof --fix <filename.manifest>");
        return new AofLoadException("Bad file format reading the append only file " + name + " at offset " + offset.ToString(CultureInfo.InvariantCulture));
    }
}
