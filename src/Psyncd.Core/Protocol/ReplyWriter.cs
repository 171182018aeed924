using System.Buffers.Text;
using System.Runtime.CompilerServices;
using System.Text;

namespace Psyncd.Protocol;

/// <summary>
/// Writes replies (and requests, which are arrays of bulk strings) into chunks of memory that a
/// subclass supplies: a client's output (<c>Execution.ClientOutput</c>) or a growable buffer
/// (<see cref="ByteBufferWriter"/>). Lengths are byte counts, numbers are formatted without allocation.
/// </summary>
/// <remarks>
/// RESP2 by default; a connection that chose protocol 3 (HELLO 3) sets <see cref="Resp3"/>, and the typed
/// writers (null, map, set, push, double, verbatim, boolean) then use RESP3's own types, each falling back
/// to what redis-server 7.0 writes for them under RESP2. The protocol is a plain field read per reply, not a
/// virtual call, so RESP2's path costs one predictable branch where a type differs.
/// </remarks>
public abstract class ReplyWriter
{
    /// <summary>The memory being filled; bytes [0, <see cref="Position"/>) are written and not yet committed.</summary>
    protected Memory<byte> Chunk;

    /// <summary>Bytes written into <see cref="Chunk"/>.</summary>
    protected int Position;

    /// <summary>Commits the bytes of the current chunk and makes <see cref="Chunk"/> a new one of at least <paramref name="sizeHint"/> bytes.</summary>
    protected abstract void NextChunk(int sizeHint);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public Span<byte> GetSpan(int size)
    {
        if (Chunk.Length - Position < size)
            NextChunk(size);
        return Chunk.Span[Position..];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Advance(int count) => Position += count;

    /// <summary>
    /// True when the connection speaks RESP3 (HELLO 3). Only client outputs ever set it: the replication
    /// stream, MONITOR lines and requests are RESP2 whatever the peer chose.
    /// </summary>
    public bool Resp3;

    /// <summary>Bytes written since this writer was created (only differences between two readings mean anything).</summary>
    public virtual long BytesWritten => Position;

    /// <summary>
    /// Takes back what was written after <see cref="BytesWritten"/> read <paramref name="mark"/>, when all of
    /// it is still in the current chunk (not yet handed on); false when some of it has left.
    /// </summary>
    public bool TryRewind(long mark)
    {
        long extra = BytesWritten - mark;
        if (extra < 0 || extra > Position)
            return false;
        Position -= (int)extra;
        return true;
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        while (!bytes.IsEmpty)
        {
            if (Chunk.Length == Position)
                NextChunk(Math.Min(bytes.Length, 64 * 1024));
            var span = Chunk.Span[Position..];
            int n = Math.Min(span.Length, bytes.Length);
            bytes[..n].CopyTo(span);
            Position += n;
            bytes = bytes[n..];
        }
    }

    /// <summary><c>+text\r\n</c></summary>
    public void WriteSimpleString(ReadOnlySpan<byte> text) => WriteLine((byte)'+', text);

    public void WriteSimpleString(string text) => WriteLine((byte)'+', text);

    /// <summary>When set, the text of the last error written is kept in <see cref="LastError"/> (for the master's link on a replica, whose replies are dropped but whose errors must be reported).</summary>
    public bool TrackErrors { get; set; }

    /// <summary>The last error written while <see cref="TrackErrors"/> is set; the reader clears it.</summary>
    public string? LastError { get; set; }

    /// <summary><c>-text\r\n</c>; <paramref name="text"/> carries its own prefix (<c>ERR</c>, <c>WRONGTYPE</c>...).</summary>
    public void WriteError(string text)
    {
        if (TrackErrors)
            LastError = text;
        WriteLine((byte)'-', text);
    }

    public void WriteError(ReadOnlySpan<byte> text)
    {
        if (TrackErrors)
            LastError = Encoding.UTF8.GetString(text);
        WriteLine((byte)'-', text);
    }

    /// <summary><c>:n\r\n</c></summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void WriteInteger(long value) => WritePrefixedNumber((byte)':', value);

    /// <summary><c>*n\r\n</c></summary>
    public void WriteArrayHeader(long count) => WritePrefixedNumber((byte)'*', count);

    /// <summary><c>$-1\r\n</c>, the nil bulk reply (RESP3: <c>_\r\n</c>).</summary>
    public void WriteNullBulk() => WriteRaw(Resp3 ? "_\r\n"u8 : "$-1\r\n"u8);

    /// <summary><c>*-1\r\n</c>, the nil multi-bulk reply (RESP3: <c>_\r\n</c>).</summary>
    public void WriteNullArray() => WriteRaw(Resp3 ? "_\r\n"u8 : "*-1\r\n"u8);

    /// <summary>A map of <paramref name="pairs"/> key/value pairs: RESP3 <c>%n</c>, RESP2 a flat array of 2n elements.</summary>
    public void WriteMapHeader(long pairs)
    {
        if (Resp3)
            WritePrefixedNumber((byte)'%', pairs);
        else
            WritePrefixedNumber((byte)'*', pairs * 2);
    }

    /// <summary>An unordered set of <paramref name="count"/> elements: RESP3 <c>~n</c>, RESP2 an array.</summary>
    public void WriteSetHeader(long count) => WritePrefixedNumber(Resp3 ? (byte)'~' : (byte)'*', count);

    /// <summary>An out-of-band push (pub/sub messages and confirmations): RESP3 <c>&gt;n</c>, RESP2 an array.</summary>
    public void WritePushHeader(long count) => WritePrefixedNumber(Resp3 ? (byte)'>' : (byte)'*', count);

    /// <summary>
    /// A double already formatted as Redis formats it (<c>%.17g</c>, <c>inf</c>, <c>-inf</c>): RESP3
    /// <c>,text\r\n</c>, RESP2 a bulk string of the same text.
    /// </summary>
    public void WriteDouble(ReadOnlySpan<byte> text)
    {
        if (Resp3)
            WriteLine((byte)',', text);
        else
            WriteBulk(text);
    }

    /// <summary>A boolean: RESP3 <c>#t</c>/<c>#f</c>, RESP2 the integer 1 or 0 (Redis's addReplyBool).</summary>
    public void WriteBoolean(bool value)
    {
        if (Resp3)
            WriteRaw(value ? "#t\r\n"u8 : "#f\r\n"u8);
        else
            WriteRaw(value ? ":1\r\n"u8 : ":0\r\n"u8);
    }

    /// <summary>
    /// Human-readable text (INFO, CLIENT LIST, the DOCTORs): RESP3 a verbatim string of format <c>txt</c>
    /// (<c>=len\r\ntxt:text\r\n</c>), RESP2 a bulk string.
    /// </summary>
    public void WriteVerbatim(ReadOnlySpan<byte> text)
    {
        if (!Resp3)
        {
            WriteBulk(text);
            return;
        }
        WritePrefixedNumber((byte)'=', text.Length + 4);
        WriteRaw("txt:"u8);
        WriteRaw(text);
        WriteRaw("\r\n"u8);
    }

    /// <summary><see cref="WriteVerbatim(ReadOnlySpan{byte})"/> of a text, UTF-8 encoded.</summary>
    public void WriteVerbatim(string text)
    {
        if (!Resp3)
        {
            WriteBulk(text);
            return;
        }
        WriteVerbatim(Encoding.UTF8.GetBytes(text));
    }

    /// <summary><c>+OK\r\n</c></summary>
    public void WriteOk() => WriteRaw("+OK\r\n"u8);

    /// <summary><c>$len\r\nbytes\r\n</c></summary>
    public void WriteBulk(ReadOnlySpan<byte> value)
    {
        if (value.Length <= 4096)
        {
            var span = GetSpan(value.Length + 16);
            span[0] = (byte)'$';
            Utf8Formatter.TryFormat(value.Length, span[1..], out int digits);
            int p = 1 + digits;
            span[p++] = (byte)'\r';
            span[p++] = (byte)'\n';
            value.CopyTo(span[p..]);
            p += value.Length;
            span[p++] = (byte)'\r';
            span[p++] = (byte)'\n';
            Position += p;
            return;
        }
        WritePrefixedNumber((byte)'$', value.Length);
        WriteRaw(value);
        WriteRaw("\r\n"u8);
    }

    /// <summary>A bulk string holding the text of <paramref name="text"/>, UTF-8 encoded.</summary>
    public void WriteBulk(string text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length);
        if (max <= 1024)
        {
            Span<byte> buffer = stackalloc byte[max];
            int n = Encoding.UTF8.GetBytes(text, buffer);
            WriteBulk(buffer[..n]);
            return;
        }
        WriteBulk(Encoding.UTF8.GetBytes(text));
    }

    /// <summary>A bulk string holding the decimal text of <paramref name="value"/>.</summary>
    public void WriteBulk(long value)
    {
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int n);
        WriteBulk(digits[..n]);
    }

    /// <summary><c>{prefix}text\r\n</c>: a status, an error or a RESP3 double; the text holds no line break.</summary>
    private void WriteLine(byte prefix, ReadOnlySpan<byte> text)
    {
        var span = GetSpan(text.Length + 3);
        span[0] = prefix;
        text.CopyTo(span[1..]);
        span[text.Length + 1] = (byte)'\r';
        span[text.Length + 2] = (byte)'\n';
        Position += text.Length + 3;
    }

    private void WriteLine(byte prefix, string text)
    {
        int max = Encoding.UTF8.GetMaxByteCount(text.Length) + 3;
        var span = GetSpan(max);
        span[0] = prefix;
        int n = Encoding.UTF8.GetBytes(text, span[1..]);
        // A status or error line cannot carry a line break: Redis replaces them with blanks.
        for (int i = 1; i <= n; i++)
        {
            if (span[i] is (byte)'\r' or (byte)'\n')
                span[i] = (byte)' ';
        }
        span[n + 1] = (byte)'\r';
        span[n + 2] = (byte)'\n';
        Position += n + 3;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void WritePrefixedNumber(byte prefix, long value)
    {
        var span = GetSpan(24);
        span[0] = prefix;
        Utf8Formatter.TryFormat(value, span[1..], out int digits);
        span[digits + 1] = (byte)'\r';
        span[digits + 2] = (byte)'\n';
        Position += digits + 3;
    }
}

/// <summary>A <see cref="ReplyWriter"/> into one growable array, for replies built ahead (replication stream, MONITOR, tests).</summary>
public sealed class ByteBufferWriter : ReplyWriter
{
    private byte[] _buffer;

    public ByteBufferWriter(int initialCapacity = 256)
    {
        _buffer = new byte[initialCapacity];
        Chunk = _buffer;
    }

    /// <summary>Bytes written so far.</summary>
    public int Length => Position;

    public ReadOnlySpan<byte> WrittenSpan => _buffer.AsSpan(0, Position);

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.AsMemory(0, Position);

    /// <summary>Forgets what was written, keeping the memory.</summary>
    public void Clear() => Position = 0;

    protected override void NextChunk(int sizeHint)
    {
        int needed = Position + sizeHint;
        var bigger = new byte[Math.Max(needed, _buffer.Length * 2)];
        _buffer.AsSpan(0, Position).CopyTo(bigger);
        _buffer = bigger;
        Chunk = _buffer;
    }
}
