using System.Buffers;
using System.Buffers.Binary;
using System.Text;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Rdb;

/// <summary>What goes in an RDB's header besides the magic: AUX fields (the repl-* ones only when given).</summary>
public sealed record RdbHeader(string RedisVersion, long CTimeSeconds, long UsedMemory)
{
    public int? ReplStreamDb { get; init; }

    public string? ReplId { get; init; }

    public long? ReplOffset { get; init; }

    /// <summary>True for the base of an append-only log (the <c>aof-base</c> AUX field Redis 7.0 writes there).</summary>
    public bool AofBase { get; init; }

    /// <summary>This header carrying <paramref name="point"/> as its repl-* AUX fields.</summary>
    public RdbHeader WithReplication(ReplicationPoint point) =>
        this with { ReplStreamDb = point.StreamDb, ReplId = point.ReplId, ReplOffset = point.Offset };
}

/// <summary>
/// Serializes keys into RDB bytes (version <see cref="RdbConstants.WriteVersion"/>): strings (integer-encoded
/// or LZF-compressed as Redis would), lists, sets, sorted sets (type 3, scores as strings) and hashes.
/// </summary>
/// <remarks>
/// Bytes accumulate in an internal buffer. Whoever owns the writer moves them to their destination:
/// <see cref="FlushTo"/> (with a running CRC kept by <see cref="RdbOutput"/>), or <see cref="SwapBuffer"/> when
/// another thread drains the bytes (background snapshots). The writer remembers the database of the last
/// SELECTDB so that keys of interleaved databases each get one when the database changes. A writer given a pool
/// takes its buffers from it, grows by trading them in, and gives the last one back in <see cref="ReturnBuffer"/>:
/// every BGSAVE, full sync and SAVE writes one RDB, and their buffers (grown past the large object heap's
/// threshold whenever a step's output passes 85,000 bytes) were garbage that used_memory counted until a full
/// collection.
/// </remarks>
public sealed class RdbWriter
{
    private byte[] _buffer;
    private int _length;
    private int _currentDb = -1;
    private readonly bool _compress;
    private readonly ArrayPool<byte>? _pool;

    public RdbWriter(bool compress, int initialCapacity = 64 * 1024, ArrayPool<byte>? pool = null)
    {
        _compress = compress;
        _pool = pool;
        _buffer = pool?.Rent(initialCapacity) ?? new byte[initialCapacity];
    }

    /// <summary>Gives the buffer back to the writer's pool (nothing without one); the bytes not taken are dropped.</summary>
    public void ReturnBuffer()
    {
        if (_pool is null || _buffer.Length == 0)
            return;
        var buffer = _buffer;
        _buffer = [];
        _length = 0;
        _pool.Return(buffer);
    }

    /// <summary>Bytes written and not yet taken.</summary>
    public int Length => _length;

    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    public void Clear() => _length = 0;

    /// <summary>Hands the filled buffer out (its first <paramref name="length"/> bytes are data) and continues in <paramref name="spare"/>.</summary>
    public byte[] SwapBuffer(byte[] spare, out int length)
    {
        var full = _buffer;
        length = _length;
        _buffer = spare;
        _length = 0;
        return full;
    }

    /// <summary>Writes the buffered bytes to <paramref name="output"/> and empties the buffer.</summary>
    public void FlushTo(RdbOutput output)
    {
        output.Write(_buffer.AsSpan(0, _length));
        _length = 0;
    }

    // ------------------------------------------------------------------
    // File structure
    // ------------------------------------------------------------------

    /// <summary>"REDIS0006" and the AUX fields.</summary>
    public void WriteHeader(RdbHeader header)
    {
        WriteRaw("REDIS000"u8);
        WriteByte((byte)('0' + RdbConstants.WriteVersion));
        WriteAux("redis-ver", Encoding.ASCII.GetBytes(header.RedisVersion));
        WriteAux("redis-bits", "64"u8);
        WriteAux("ctime", Encoding.ASCII.GetBytes(header.CTimeSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        WriteAux("used-mem", Encoding.ASCII.GetBytes(header.UsedMemory.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        if (header.ReplId is not null)
        {
            WriteAux("repl-stream-db", Encoding.ASCII.GetBytes((header.ReplStreamDb ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture)));
            WriteAux("repl-id", Encoding.ASCII.GetBytes(header.ReplId));
            WriteAux("repl-offset", Encoding.ASCII.GetBytes((header.ReplOffset ?? 0).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }
        if (header.AofBase)
            WriteAux("aof-base", "1"u8);
    }

    public void WriteAux(string key, ReadOnlySpan<byte> value)
    {
        WriteByte(RdbConstants.OpAux);
        WriteString(Encoding.ASCII.GetBytes(key));
        WriteString(value);
    }

    /// <summary>
    /// After the header, at the snapshot's instant (inside the loop): SELECTDB and RESIZEDB with its key and expiry
    /// counts for every database that has keys, as Redis writes them, all first. The walk goes through the log, not
    /// database by database; a loader grows its index once for all the keys instead of as they arrive
    /// (<see cref="Keyspace.ExpectKeys"/>). The first key then selects its database again when it differs.
    /// </summary>
    public void WriteDatabaseSizes(Keyspace keyspace)
    {
        for (int db = 0; db < keyspace.DatabaseCount; db++)
        {
            long keys = keyspace.KeyCount(db);
            if (keys == 0)
                continue;
            WriteByte(RdbConstants.OpSelectDb);
            WriteLength((ulong)db);
            _currentDb = db;
            WriteByte(RdbConstants.OpResizeDb);
            WriteLength((ulong)keys);
            WriteLength((ulong)keyspace.ExpiresCount(db));
        }
    }

    /// <summary>The EOF opcode (the caller's <see cref="RdbOutput"/> then appends the checksum).</summary>
    public void WriteEof() => WriteByte(RdbConstants.OpEof);

    /// <summary>One key record, preceded by SELECTDB when the database differs from the previous key's.</summary>
    public void WriteKey(int db, ReadOnlySpan<byte> key, in Entry entry)
    {
        if (db != _currentDb)
        {
            WriteByte(RdbConstants.OpSelectDb);
            WriteLength((ulong)db);
            _currentDb = db;
        }
        if (entry.ExpireAt >= 0)
        {
            var span = Reserve(9);
            span[0] = RdbConstants.OpExpireTimeMs;
            BinaryPrimitives.WriteInt64LittleEndian(span[1..], entry.ExpireAt);
            _length += 9;
        }
        WriteByte(TypeOf(entry.Kind));
        WriteString(key);
        WriteValueBody(entry);
    }

    /// <summary>A value as DUMP carries it: its type byte then its body.</summary>
    public void WriteTypedValue(in Entry entry)
    {
        WriteByte(TypeOf(entry.Kind));
        WriteValueBody(entry);
    }

    private static byte TypeOf(ValueKind kind) => kind switch
    {
        ValueKind.String => RdbConstants.TypeString,
        ValueKind.List => RdbConstants.TypeList,
        ValueKind.Set => RdbConstants.TypeSet,
        ValueKind.SortedSet => RdbConstants.TypeZSet,
        ValueKind.Hash => RdbConstants.TypeHash,
        _ => throw new InvalidOperationException("no RDB type for " + kind),
    };

    private void WriteValueBody(in Entry entry)
    {
        switch (entry.Kind)
        {
            case ValueKind.String:
                WriteString(entry.String);
                break;
            case ValueKind.List:
            {
                // Walked in place: the list's Items (and the hash's Entries) copy every element.
                var list = entry.As<ListObject>();
                WriteLength((ulong)list.Count);
                if (list.Count > 0)
                {
                    var cursor = list.At(0);
                    while (cursor.Next(out var item))
                        WriteString(item);
                }
                break;
            }
            case ValueKind.Set:
            {
                var set = entry.As<SetObject>();
                WriteLength((ulong)set.Count);
                foreach (var member in set.Members)
                    WriteString(member);
                break;
            }
            case ValueKind.SortedSet:
            {
                var zset = entry.As<SortedSetObject>();
                WriteLength((ulong)zset.Count);
                // Walks the nodes rather than Entries, which copies each member.
                for (var node = zset.First; node is not null; node = node.Next)
                {
                    WriteString(zset.MemberOf(node));
                    WriteDoubleString(node.Score);
                }
                break;
            }
            case ValueKind.Hash:
            {
                var hash = entry.As<HashObject>();
                WriteLength((ulong)hash.Count);
                for (int slot = 0; slot < hash.SlotCount; slot++)
                {
                    if (!hash.TryGetSlot(slot, out var field, out var value))
                        continue;
                    WriteString(field);
                    WriteString(value);
                }
                break;
            }
            default:
                throw new InvalidOperationException("no RDB type for " + entry.Kind);
        }
    }

    // ------------------------------------------------------------------
    // Primitives
    // ------------------------------------------------------------------

    public void WriteByte(byte value)
    {
        Reserve(1)[0] = value;
        _length++;
    }

    public void WriteRaw(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(Reserve(bytes.Length));
        _length += bytes.Length;
    }

    /// <summary>A length in the smallest form: 6 bits, 14 bits, 32 bits or 64 bits (big-endian).</summary>
    public void WriteLength(ulong length)
    {
        var span = Reserve(9);
        if (length < 1 << 6)
        {
            span[0] = (byte)length;
            _length += 1;
        }
        else if (length < 1 << 14)
        {
            span[0] = (byte)(0x40 | (length >> 8));
            span[1] = (byte)length;
            _length += 2;
        }
        else if (length <= uint.MaxValue)
        {
            span[0] = RdbConstants.Len32Bit;
            BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)length);
            _length += 5;
        }
        else
        {
            span[0] = RdbConstants.Len64Bit;
            BinaryPrimitives.WriteUInt64BigEndian(span[1..], length);
            _length += 9;
        }
    }

    /// <summary>A string: as an integer when it is one's canonical form in int32 range, LZF when that saves, raw otherwise.</summary>
    public void WriteString(ReadOnlySpan<byte> value)
    {
        if (value.Length <= 11 && TryParseCanonicalInt32(value, out int number))
        {
            WriteEncodedInteger(number);
            return;
        }
        if (_compress && value.Length > 20 && TryWriteCompressed(value))
            return;
        WriteLength((ulong)value.Length);
        WriteRaw(value);
    }

    private void WriteEncodedInteger(int number)
    {
        var span = Reserve(5);
        if (number is >= sbyte.MinValue and <= sbyte.MaxValue)
        {
            span[0] = 0xC0 | RdbConstants.EncInt8;
            span[1] = (byte)(sbyte)number;
            _length += 2;
        }
        else if (number is >= short.MinValue and <= short.MaxValue)
        {
            span[0] = 0xC0 | RdbConstants.EncInt16;
            BinaryPrimitives.WriteInt16LittleEndian(span[1..], (short)number);
            _length += 3;
        }
        else
        {
            span[0] = 0xC0 | RdbConstants.EncInt32;
            BinaryPrimitives.WriteInt32LittleEndian(span[1..], number);
            _length += 5;
        }
    }

    /// <summary>Room for the LZF marker and two lengths of at most 9 bytes each, ahead of the compressed bytes.</summary>
    private const int CompressedHeaderRoom = 1 + 9 + 9;

    private bool TryWriteCompressed(ReadOnlySpan<byte> value)
    {
        // Kept only when it saves at least 4 bytes, as Redis does. Compressed in place, past the room its header
        // may take, then moved back to follow the header: no scratch buffer (one per thread was allocated again
        // by every BGSAVE's new thread, as large as the largest value).
        int limit = value.Length - 4;
        int start = _length;
        var room = Reserve(CompressedHeaderRoom + limit);
        int compressed = Lzf.Compress(value, room.Slice(CompressedHeaderRoom, limit));
        if (compressed == 0)
            return false;
        WriteByte(0xC0 | RdbConstants.EncLzf);
        WriteLength((ulong)compressed);
        WriteLength((ulong)value.Length);
        // Overlapping copy to the left: Span's CopyTo moves as memmove does.
        _buffer.AsSpan(start + CompressedHeaderRoom, compressed).CopyTo(_buffer.AsSpan(_length));
        _length += compressed;
        return true;
    }

    /// <summary>A double as type 3 stores scores: a length byte then ASCII, or 253/254/255 for NaN/+inf/-inf.</summary>
    public void WriteDoubleString(double value)
    {
        if (double.IsNaN(value))
        {
            WriteByte(RdbConstants.DoubleNaN);
            return;
        }
        if (double.IsInfinity(value))
        {
            WriteByte(value > 0 ? RdbConstants.DoublePosInf : RdbConstants.DoubleNegInf);
            return;
        }
        var span = Reserve(1 + 40);
        int written;
        // Integral values in the exact range print as integers (as Redis does), others as %.17g.
        if (value > -4503599627370496.0 && value < 4503599627370496.0 && value == Math.Floor(value) && !(value == 0 && double.IsNegative(value)))
        {
            ((long)value).TryFormat(span[1..], out written, default, System.Globalization.CultureInfo.InvariantCulture);
        }
        else
        {
            string text = Numbers.FormatDouble(value);
            written = Encoding.ASCII.GetBytes(text, span[1..]);
        }
        span[0] = (byte)written;
        _length += 1 + written;
    }

    private Span<byte> Reserve(int size)
    {
        if (_length + size > _buffer.Length)
            Grow(size);
        return _buffer.AsSpan(_length);
    }

    private void Grow(int size)
    {
        int capacity = Math.Max(_buffer.Length * 2, _length + size);
        if (_pool is null)
        {
            Array.Resize(ref _buffer, capacity);
            return;
        }
        var bigger = _pool.Rent(capacity);
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        if (_buffer.Length > 0)
            _pool.Return(_buffer);
        _buffer = bigger;
    }

    /// <summary>True when <paramref name="text"/> is exactly how an int32 prints (no sign '+', no leading zeros).</summary>
    internal static bool TryParseCanonicalInt32(ReadOnlySpan<byte> text, out int value)
    {
        value = 0;
        if (text.IsEmpty)
            return false;
        int i = 0;
        bool negative = false;
        if (text[0] == (byte)'-')
        {
            negative = true;
            i = 1;
            if (text.Length == 1)
                return false;
        }
        if (text[i] == (byte)'0')
        {
            // "0" alone; "-0" and "01" are not canonical.
            if (text.Length == 1)
                return true;
            return false;
        }
        long acc = 0;
        for (; i < text.Length; i++)
        {
            int d = text[i] - '0';
            if ((uint)d > 9)
                return false;
            acc = acc * 10 + d;
            if (acc > 2147483648L)
                return false;
        }
        if (negative)
            acc = -acc;
        if (acc is < int.MinValue or > int.MaxValue)
            return false;
        value = (int)acc;
        return true;
    }
}

/// <summary>Where RDB bytes go: a stream, with the running CRC64 of everything written.</summary>
public sealed class RdbOutput
{
    private readonly Stream _stream;

    public RdbOutput(Stream stream) => _stream = stream;

    /// <summary>
    /// A new file for an RDB, without FileStream's own buffer (64 KB allocated for every file written): the bytes
    /// arrive in chunks of 32 KB and more (a snapshot's drains, SAVE's flushes of 1 MB).
    /// </summary>
    public static FileStream CreateFile(string path) => new(path, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);

    public ulong Crc { get; private set; }

    public long BytesWritten { get; private set; }

    public void Write(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty)
            return;
        Crc = Crc64.Update(Crc, bytes);
        _stream.Write(bytes);
        BytesWritten += bytes.Length;
    }

    /// <summary>After the EOF opcode: the 8-byte little-endian checksum (zeros when <paramref name="checksum"/> is off).</summary>
    public void WriteChecksum(bool checksum)
    {
        Span<byte> crc = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(crc, checksum ? Crc : 0);
        _stream.Write(crc);
        BytesWritten += 8;
    }
}
