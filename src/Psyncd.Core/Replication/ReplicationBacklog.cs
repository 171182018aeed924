namespace Psyncd.Replication;

/// <summary>
/// The circular buffer of the most recent replication stream bytes (<c>repl-backlog-size</c>), from which
/// PSYNC serves partial resynchronizations.
/// </summary>
/// <remarks>
/// Invariants (Redis's names): the backlog holds stream bytes [<see cref="FirstByteOffset"/>,
/// <see cref="FirstByteOffset"/> + <see cref="HistoryLength"/>), and the last of them is the stream's
/// offset, so <c>FirstByteOffset = masterReplOffset - HistoryLength + 1</c>. A replica asks for the first
/// byte it lacks: offset <c>o</c> is servable iff <c>FirstByteOffset &lt;= o &lt;= masterReplOffset + 1</c>.
/// </remarks>
public sealed class ReplicationBacklog
{
    private byte[] _buffer;

    /// <summary>Where the next byte goes in <see cref="_buffer"/>.</summary>
    private int _writeIndex;

    /// <summary>Creates an empty backlog whose next byte will be stream offset <paramref name="nextOffset"/>.</summary>
    public ReplicationBacklog(long size, long nextOffset)
    {
        _buffer = new byte[checked((int)Math.Max(16 * 1024, size))];
        FirstByteOffset = nextOffset;
    }

    public long Size => _buffer.Length;

    /// <summary>Bytes held (<c>repl_backlog_histlen</c>).</summary>
    public long HistoryLength { get; private set; }

    /// <summary>Stream offset of the oldest byte held (<c>repl_backlog_first_byte_offset</c>).</summary>
    public long FirstByteOffset { get; private set; }

    /// <summary>Stream offset that the next appended byte will have.</summary>
    public long NextOffset => FirstByteOffset + HistoryLength;

    public void Append(ReadOnlySpan<byte> bytes)
    {
        int size = _buffer.Length;
        if (bytes.Length >= size)
        {
            // Only the last `size` bytes can be kept.
            long dropped = bytes.Length - size;
            bytes[(int)dropped..].CopyTo(_buffer);
            _writeIndex = 0;
            FirstByteOffset = NextOffset + bytes.Length - size;
            HistoryLength = size;
            return;
        }
        int first = Math.Min(bytes.Length, size - _writeIndex);
        bytes[..first].CopyTo(_buffer.AsSpan(_writeIndex));
        bytes[first..].CopyTo(_buffer);
        _writeIndex = (_writeIndex + bytes.Length) % size;
        long newLength = HistoryLength + bytes.Length;
        if (newLength > size)
        {
            FirstByteOffset += newLength - size;
            newLength = size;
        }
        HistoryLength = newLength;
    }

    /// <summary>True when the stream from <paramref name="offset"/> on is held (possibly 0 bytes of it).</summary>
    public bool Covers(long offset) => offset >= FirstByteOffset && offset <= NextOffset;

    /// <summary>Copies the bytes from stream offset <paramref name="offset"/> to the end, in one or two pieces.</summary>
    public void CopyFrom(long offset, Action<ReadOnlyMemory<byte>> sink)
    {
        if (!Covers(offset))
            throw new ArgumentOutOfRangeException(nameof(offset));
        long count = NextOffset - offset;
        if (count == 0)
            return;
        int size = _buffer.Length;
        int start = (int)((_writeIndex - count + size) % size);
        int first = (int)Math.Min(count, size - start);
        sink(_buffer.AsMemory(start, first));
        if (first < count)
            sink(_buffer.AsMemory(0, (int)(count - first)));
    }

    /// <summary>Changes the size, keeping as much of the newest history as fits.</summary>
    public void Resize(long newSize)
    {
        long keep = Math.Min(HistoryLength, Math.Max(16 * 1024, newSize));
        var resized = new ReplicationBacklog(newSize, NextOffset - keep);
        CopyFrom(NextOffset - keep, chunk => resized.Append(chunk.Span));
        _buffer = resized._buffer;
        _writeIndex = resized._writeIndex;
        FirstByteOffset = resized.FirstByteOffset;
        HistoryLength = resized.HistoryLength;
    }
}
