using Microsoft.Win32.SafeHandles;

namespace Psyncd.Persistence;

/// <summary>Reading the stream back from the files: the backlog after a restart, and PSYNC from disk.</summary>
public sealed partial class AppendOnlyFile
{
    /// <summary>A file holding stream bytes: where its first stream byte is, and how many it holds now.</summary>
    private readonly record struct StreamFile(string Path, long FirstOffset, int Skip, long Length);

    /// <summary>
    /// The files holding stream bytes, oldest first, as far back as they are contiguous with the current one (a
    /// history file from before a full sync or an <c>appendonly</c> restart is not part of this history).
    /// </summary>
    private List<StreamFile> StreamFiles()
    {
        var all = new List<AofFileInfo>();
        if (_waitingFirstBase)
            return new List<StreamFile>(); // the files listed belong to a log that was off
        foreach (var h in _manifest.History)
        {
            if (AofManifest.IsIncrName(h.Name))
                all.Add(h);
        }
        all.AddRange(_manifest.Incr);
        var files = new List<StreamFile>();
        long expectedEnd = -1;
        for (int i = all.Count - 1; i >= 0; i--)
        {
            var info = all[i];
            if (info.StartOffset < 0)
                break;
            string path = FilePath(info.Name);
            long length;
            if (i == all.Count - 1 && _incr is not null)
                length = _incrLength - info.Skip;
            else if (File.Exists(path))
                length = new FileInfo(path).Length - info.Skip;
            else
                break;
            if (expectedEnd >= 0 && info.StartOffset + length != expectedEnd)
                break;
            files.Insert(0, new StreamFile(path, info.StartOffset + 1, info.Skip, Math.Max(0, length)));
            expectedEnd = info.StartOffset;
        }
        return files;
    }

    /// <summary>The oldest stream offset the log can serve (INFO's repl_log_first_byte_offset); 0 when it holds none.</summary>
    public long FirstStreamOffset
    {
        get
        {
            var files = StreamFiles();
            return files.Count == 0 ? 0 : files[0].FirstOffset;
        }
    }

    /// <summary>Stream bytes the log holds (INFO's repl_log_size).</summary>
    public long StreamBytesHeld
    {
        get
        {
            long sum = 0;
            foreach (var f in StreamFiles())
                sum += f.Length;
            return sum;
        }
    }

    /// <summary>
    /// Inside the loop: writes what is pending, then returns a reader of the stream bytes from <paramref name="from"/>
    /// through <paramref name="to"/> (inclusive), or null when the log does not hold them all. The reader may run on
    /// any thread: the files it reads are only appended to, and retention never deletes the current one.
    /// </summary>
    public Func<Action<ReadOnlyMemory<byte>>, bool>? TryOpenRange(long from, long to)
    {
        if (from > to + 1 || _manifest.Incr.Count == 0)
            return null;
        FlushBuffer();
        var files = StreamFiles();
        if (files.Count == 0 || from < files[0].FirstOffset || to >= files[^1].FirstOffset + files[^1].Length)
            return null;
        return sink => ReadRange(files, from, to, sink);
    }

    private static bool ReadRange(List<StreamFile> files, long from, long to, Action<ReadOnlyMemory<byte>> sink)
    {
        var buffer = new byte[1 << 16];
        foreach (var f in files)
        {
            long fileLast = f.FirstOffset + f.Length - 1;
            if (fileLast < from || f.FirstOffset > to)
                continue;
            long first = Math.Max(from, f.FirstOffset);
            long last = Math.Min(to, fileLast);
            SafeFileHandle handle;
            try
            {
                handle = File.OpenHandle(f.Path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            }
            catch (IOException)
            {
                return false; // removed by retention meanwhile
            }
            using (handle)
            {
                long position = f.Skip + (first - f.FirstOffset);
                long left = last - first + 1;
                while (left > 0)
                {
                    int read = RandomAccess.Read(handle, buffer.AsSpan(0, (int)Math.Min(buffer.Length, left)), position);
                    if (read <= 0)
                        return false;
                    sink(buffer.AsMemory(0, read));
                    position += read;
                    left -= read;
                }
            }
        }
        return true;
    }
}
