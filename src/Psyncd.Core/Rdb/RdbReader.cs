using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Rdb;

/// <summary>
/// Reads RDB files of versions 1 to 11 from a stream, in one pass with a running CRC64, into a
/// <see cref="Keyspace"/>: every string encoding (integers, LZF), the plain types 0–5 and the compact
/// encodings of Redis 2.x–7.2 (zipmap, ziplist, intset, quicklist, listpack). Module AUX data and function
/// libraries are skipped; streams and module values are not psyncd types and fail the load.
/// </summary>
/// <remarks>
/// Any malformed or truncated input raises <see cref="RdbCorruptException"/> with the byte offset.
/// Why this file is long: it reads a format with eleven versions and a dozen compact encodings, each decoded
/// into psyncd's own types, over one buffered input that keeps the running CRC; the decoders share that input's
/// scratch buffers and offsets, so they stay in the one class that owns them.
/// </remarks>
public sealed class RdbReader
{
    private readonly Stream _stream;
    private byte[] _buffer = new byte[64 * 1024];
    private int _pos;
    private int _end;
    private int _crcFrom;
    private long _consumedBefore; // stream bytes that came before _buffer[0]
    private ulong _crc;
    private bool _eof;

    // Scratch buffers for key and value strings (valid until the next read into the same buffer).
    private byte[] _keyScratch = new byte[256];
    private byte[] _valueScratch = new byte[1024];

    public RdbReader(Stream stream)
    {
        _stream = stream;
        _streamEnd = stream.CanSeek ? stream.Length : -1;
    }

    // The stream's length when known (to reject lengths past the end before allocating), else -1.
    private readonly long _streamEnd;

    /// <summary>The RDB version from the magic.</summary>
    public int Version { get; private set; }

    /// <summary>The AUX fields met (redis-ver, repl-id, repl-offset...).</summary>
    public Dictionary<string, string> Aux { get; } = new(StringComparer.Ordinal);

    /// <summary>The replication point the AUX fields record, or null (see <see cref="ReplicationPoint.FromAux"/>).</summary>
    public ReplicationPoint? Replication => ReplicationPoint.FromAux(Aux);

    /// <summary>Keys loaded, and keys dropped because they had already expired.</summary>
    public long KeysLoaded { get; private set; }

    public long KeysExpired { get; private set; }

    /// <summary>Bytes consumed from the stream so far.</summary>
    public long Offset => _consumedBefore + _pos;

    /// <summary>
    /// Reads a whole RDB into <paramref name="keyspace"/> (which the caller has emptied as needed), inside the
    /// command loop. Keys whose expiry is before <paramref name="nowMs"/> are dropped when <paramref name="dropExpired"/>,
    /// each reported to <paramref name="onDropped"/> when given.
    /// <paramref name="pause"/>, when given, is called between two keys every <see cref="KeysBetweenPauses"/> keys.
    /// </summary>
    public void Load(Keyspace keyspace, long nowMs, bool dropExpired, Action? pause = null, KeyEventHandler? onDropped = null)
    {
        bool wasLoading = keyspace.Loading;
        keyspace.Loading = true;
        try
        {
            LoadKeys(keyspace, nowMs, dropExpired, pause, onDropped);
        }
        finally
        {
            keyspace.Loading = wasLoading;
        }
    }

    private void LoadKeys(Keyspace keyspace, long nowMs, bool dropExpired, Action? pause, KeyEventHandler? onDropped)
    {
        ReadMagic();
        int db = 0;
        long expireAt = -1;
        while (true)
        {
            long opOffset = Offset;
            byte type = ReadByte();
            switch (type)
            {
                case RdbConstants.OpEof:
                    VerifyChecksum();
                    return;
                case RdbConstants.OpSelectDb:
                {
                    ulong index = ReadLength();
                    if (index >= (ulong)keyspace.DatabaseCount)
                        throw Corrupt(opOffset, "SELECTDB to database " + index + " out of range (databases " + keyspace.DatabaseCount + ")");
                    db = (int)index;
                    continue;
                }
                case RdbConstants.OpExpireTimeMs:
                    expireAt = ReadInt64();
                    continue;
                case RdbConstants.OpExpireTime:
                    expireAt = ReadInt32() * 1000L;
                    continue;
                case RdbConstants.OpResizeDb:
                    ExpectKeys(keyspace, ReadLength());
                    ReadLength(); // keys with an expiry: the expiry index grows as they come
                    continue;
                case RdbConstants.OpAux:
                {
                    string auxKey = Encoding.UTF8.GetString(ReadStringInto(ref _keyScratch));
                    string value = Encoding.UTF8.GetString(ReadStringInto(ref _valueScratch));
                    Aux[auxKey] = value;
                    continue;
                }
                case RdbConstants.OpIdle:
                    ReadLength();
                    continue;
                case RdbConstants.OpFreq:
                    ReadByte();
                    continue;
                case RdbConstants.OpModuleAux:
                    ReadLength(); // module id
                    ReadLength(); // when opcode
                    ReadLength(); // when
                    SkipModuleValue();
                    continue;
                case RdbConstants.OpFunction2:
                    SkipString();
                    continue;
                case RdbConstants.OpFunction:
                    SkipString();
                    SkipString();
                    if (ReadLength() != 0)
                        SkipString();
                    SkipString();
                    continue;
            }

            // A key record.
            var key = ReadStringInto(ref _keyScratch);
            bool drop = dropExpired && expireAt >= 0 && expireAt < nowMs;
            try
            {
                if (type == RdbConstants.TypeString)
                {
                    var value = ReadStringInto(ref _valueScratch);
                    if (!drop)
                        keyspace.SetString(db, key, value, expireAt);
                }
                else
                {
                    var obj = ReadObject(type, opOffset);
                    // Empty collections are skipped, as Redis does (never stored).
                    if (!drop && obj is not null && obj.Count > 0)
                        keyspace.SetObject(db, key, obj, expireAt);
                }
            }
            catch (RdbCorruptException e) when (e.Key is null)
            {
                // Name the key whose value failed: the reader of the log must know what the master holds.
                // _keyScratch is not read into while the value is read, so the key is still there.
                throw e.InKey(db, key, type);
            }
            if (drop)
            {
                KeysExpired++;
                onDropped?.Invoke(db, key);
            }
            else
                KeysLoaded++;
            expireAt = -1;
            if (pause is not null && ((KeysLoaded + KeysExpired) % KeysBetweenPauses) == 0)
                pause();
        }
    }

    /// <summary>Sum of the RESIZEDB key counts met so far.</summary>
    private long _keysAnnounced;

    /// <summary>
    /// A RESIZEDB's count: the index grows once for the keys still to come (Redis files write it before each database's
    /// keys, psyncd's all first: counting what was announced against what was read serves both). A count the rest
    /// of the file cannot hold (3 bytes at least a key) is a corrupt file's, not a reason to allocate.
    /// </summary>
    private void ExpectKeys(Keyspace keyspace, ulong keys)
    {
        long cap = _streamEnd >= 0 ? Math.Max(0, (_streamEnd - Offset) / 3) : MaxKeysAnnouncedUnbounded;
        _keysAnnounced += (long)Math.Min(keys, (ulong)cap);
        long coming = Math.Min(_keysAnnounced - KeysLoaded - KeysExpired, cap);
        if (coming > 0)
            keyspace.ExpectKeys(coming);
    }

    /// <summary>Most keys a RESIZEDB may announce on a stream of unknown length (an index of 256 MB).</summary>
    private const long MaxKeysAnnouncedUnbounded = 16L << 20;

    /// <summary>How often <see cref="Load"/> calls its pause: often enough to be cheap to check, rare enough to cost nothing.</summary>
    public const int KeysBetweenPauses = 1024;

    /// <summary>
    /// Reads one value of a DUMP payload (type byte then body) from a stream of exactly that value: a string
    /// as byte[] or a collection.
    /// </summary>
    public object ReadTypedValue()
    {
        long offset = Offset;
        byte type = ReadByte();
        if (type == RdbConstants.TypeString)
            return ReadStringInto(ref _valueScratch).ToArray();
        return ReadObject(type, offset) ?? throw Corrupt(offset, "empty value");
    }

    private void ReadMagic()
    {
        Span<byte> magic = stackalloc byte[9];
        ReadExact(magic);
        if (!magic[..5].SequenceEqual("REDIS"u8))
            throw Corrupt(0, "Wrong signature trying to load DB from file");
        int version = 0;
        for (int i = 5; i < 9; i++)
        {
            int d = magic[i] - '0';
            if ((uint)d > 9)
                throw Corrupt(i, "Wrong signature trying to load DB from file");
            version = version * 10 + d;
        }
        if (version < 1 || version > RdbConstants.MaxReadVersion)
            throw Corrupt(5, "Can't handle RDB format version " + version);
        Version = version;
    }

    private void VerifyChecksum()
    {
        if (Version < 5)
            return;
        _crc = Crc64.Update(_crc, _buffer.AsSpan(_crcFrom, _pos - _crcFrom));
        _crcFrom = _pos;
        ulong expected = _crc;
        long offset = Offset;
        ulong stored = (ulong)ReadInt64();
        if (stored != 0 && stored != expected)
            throw Corrupt(offset, "Wrong RDB checksum expected: (" + stored.ToString("x16", CultureInfo.InvariantCulture) + ") got: (" + expected.ToString("x16", CultureInfo.InvariantCulture) + ")");
    }

    // ------------------------------------------------------------------
    // Values
    // ------------------------------------------------------------------

    private RedisObject? ReadObject(byte type, long offset)
    {
        switch (type)
        {
            case RdbConstants.TypeList:
            {
                var list = new ListObject();
                ulong n = ReadLength();
                for (ulong i = 0; i < n; i++)
                    list.PushRight(ReadStringInto(ref _valueScratch));
                return list;
            }
            case RdbConstants.TypeSet:
            {
                var set = new SetObject();
                ulong n = ReadLength();
                for (ulong i = 0; i < n; i++)
                {
                    if (!set.Add(ReadStringInto(ref _valueScratch)))
                        throw Corrupt(Offset, "Duplicate set members detected");
                }
                return set;
            }
            case RdbConstants.TypeZSet:
            case RdbConstants.TypeZSet2:
            {
                var zset = new SortedSetObject();
                ulong n = ReadLength();
                for (ulong i = 0; i < n; i++)
                {
                    var member = ReadStringInto(ref _valueScratch);
                    double score = type == RdbConstants.TypeZSet ? ReadDoubleString() : BitConverter.Int64BitsToDouble(ReadInt64());
                    if (double.IsNaN(score))
                        throw Corrupt(Offset, "Zset with NAN score detected");
                    if (!zset.Add(member, score))
                        throw Corrupt(Offset, "Duplicate zset fields detected");
                }
                return zset;
            }
            case RdbConstants.TypeHash:
            {
                var hash = new HashObject();
                ulong n = ReadLength();
                for (ulong i = 0; i < n; i++)
                {
                    var field = ReadStringInto(ref _keyScratchForFields);
                    if (!hash.Set(field, ReadStringInto(ref _valueScratch)))
                        throw Corrupt(Offset, "Duplicate hash fields detected");
                }
                return hash;
            }
            case RdbConstants.TypeHashZipmap:
                return ReadZipmap();
            case RdbConstants.TypeListZiplist:
            {
                var list = new ListObject();
                var blob = ReadBlob();
                Blobs.ForEachZiplist(blob.Span, this, (ReadOnlySpan<byte> e) => list.PushRight(e), Offset);
                return list;
            }
            case RdbConstants.TypeSetIntset:
            {
                var set = new SetObject();
                ReadIntset(ReadBlob().Span, set);
                return set;
            }
            case RdbConstants.TypeZSetZiplist:
            case RdbConstants.TypeZSetListpack:
            {
                var blob = ReadBlob();
                var zset = new SortedSetObject();
                byte[]? member = null;
                void Visit(ReadOnlySpan<byte> e)
                {
                    if (member is null)
                    {
                        member = e.ToArray();
                        return;
                    }
                    if (!Numbers.TryParseDouble(e, out double score))
                        throw Corrupt(Offset, "Zset blob with a bad score");
                    if (!zset.Add(member, score))
                        throw Corrupt(Offset, "Duplicate zset fields detected");
                    member = null;
                }
                if (type == RdbConstants.TypeZSetZiplist)
                    Blobs.ForEachZiplist(blob.Span, this, Visit, Offset);
                else
                    Blobs.ForEachListpack(blob.Span, this, Visit, Offset);
                if (member is not null)
                    throw Corrupt(Offset, "Zset blob with an odd number of elements");
                return zset;
            }
            case RdbConstants.TypeHashZiplist:
            case RdbConstants.TypeHashListpack:
            {
                var blob = ReadBlob();
                var hash = new HashObject();
                byte[]? field = null;
                void Visit(ReadOnlySpan<byte> e)
                {
                    if (field is null)
                    {
                        field = e.ToArray();
                        return;
                    }
                    if (!hash.Set(field, e))
                        throw Corrupt(Offset, "Duplicate hash fields detected");
                    field = null;
                }
                if (type == RdbConstants.TypeHashZiplist)
                    Blobs.ForEachZiplist(blob.Span, this, Visit, Offset);
                else
                    Blobs.ForEachListpack(blob.Span, this, Visit, Offset);
                if (field is not null)
                    throw Corrupt(Offset, "Hash blob with an odd number of elements");
                return hash;
            }
            case RdbConstants.TypeSetListpack:
            {
                var blob = ReadBlob();
                var set = new SetObject();
                Blobs.ForEachListpack(blob.Span, this, (ReadOnlySpan<byte> e) =>
                {
                    if (!set.Add(e))
                        throw Corrupt(Offset, "Duplicate set members detected");
                }, Offset);
                return set;
            }
            case RdbConstants.TypeListQuicklist:
            case RdbConstants.TypeListQuicklist2:
            {
                var list = new ListObject();
                ulong nodes = ReadLength();
                for (ulong i = 0; i < nodes; i++)
                {
                    ulong container = RdbConstants.QuicklistNodePacked;
                    if (type == RdbConstants.TypeListQuicklist2)
                    {
                        container = ReadLength();
                        if (container != RdbConstants.QuicklistNodePlain && container != RdbConstants.QuicklistNodePacked)
                            throw Corrupt(Offset, "Quicklist integrity check failed (container " + container + ")");
                    }
                    if (container == RdbConstants.QuicklistNodePlain)
                    {
                        list.PushRight(ReadStringInto(ref _valueScratch));
                        continue;
                    }
                    var blob = ReadBlob();
                    if (type == RdbConstants.TypeListQuicklist)
                        Blobs.ForEachZiplist(blob.Span, this, (ReadOnlySpan<byte> e) => list.PushRight(e), Offset);
                    else
                        Blobs.ForEachListpack(blob.Span, this, (ReadOnlySpan<byte> e) => list.PushRight(e), Offset);
                }
                return list;
            }
            case RdbConstants.TypeStreamListpacks:
            case RdbConstants.TypeStreamListpacks2:
            case RdbConstants.TypeStreamListpacks3:
                throw new RdbCorruptException(offset, "Stream values (RDB type " + type + ") are not supported by psyncd", unsupported: true);
            case RdbConstants.TypeModule:
            case RdbConstants.TypeModule2:
                throw new RdbCorruptException(offset, "Module values (RDB type " + type + ") are not supported by psyncd", unsupported: true);
            default:
                throw Corrupt(offset, "Unknown RDB value type " + type);
        }
    }

    private byte[] _keyScratchForFields = new byte[256];

    /// <summary>A string holding a blob (ziplist, listpack, intset, zipmap), copied so that elements can be read while it is walked.</summary>
    private ReadOnlyMemory<byte> ReadBlob() => ReadStringInto(ref _valueScratch).ToArray();

    private void ReadIntset(ReadOnlySpan<byte> blob, SetObject set)
    {
        if (blob.Length < 8)
            throw Corrupt(Offset, "Intset integrity check failed (short header)");
        uint width = BinaryPrimitives.ReadUInt32LittleEndian(blob);
        uint count = BinaryPrimitives.ReadUInt32LittleEndian(blob[4..]);
        if (width is not (2 or 4 or 8) || 8 + (long)width * count != blob.Length)
            throw Corrupt(Offset, "Intset integrity check failed");
        Span<byte> text = stackalloc byte[24];
        for (int i = 0; i < count; i++)
        {
            var at = blob.Slice(8 + i * (int)width, (int)width);
            long v = width switch
            {
                2 => BinaryPrimitives.ReadInt16LittleEndian(at),
                4 => BinaryPrimitives.ReadInt32LittleEndian(at),
                _ => BinaryPrimitives.ReadInt64LittleEndian(at),
            };
            v.TryFormat(text, out int written, default, CultureInfo.InvariantCulture);
            if (!set.Add(text[..written]))
                throw Corrupt(Offset, "Duplicate set members detected");
        }
    }

    private HashObject ReadZipmap()
    {
        var blob = ReadBlob().Span;
        var hash = new HashObject();
        int p = 1; // zmlen
        byte[]? field = null;
        while (true)
        {
            if (p >= blob.Length)
                throw Corrupt(Offset, "Zipmap integrity check failed (no end)");
            if (blob[p] == 0xFF)
                break;
            int len = ZipmapLength(blob, ref p);
            int free = 0;
            if (field is not null)
            {
                if (p >= blob.Length)
                    throw Corrupt(Offset, "Zipmap integrity check failed");
                free = blob[p++];
            }
            if (p + len + free > blob.Length)
                throw Corrupt(Offset, "Zipmap integrity check failed (entry past end)");
            var element = blob.Slice(p, len);
            p += len + free;
            if (field is null)
            {
                field = element.ToArray();
            }
            else
            {
                if (!hash.Set(field, element))
                    throw Corrupt(Offset, "Duplicate hash fields detected");
                field = null;
            }
        }
        if (field is not null)
            throw Corrupt(Offset, "Zipmap integrity check failed (odd entries)");
        return hash;
    }

    private int ZipmapLength(ReadOnlySpan<byte> blob, ref int p)
    {
        byte b = blob[p++];
        if (b < 254)
            return b;
        if (b == 254 && p + 4 <= blob.Length)
        {
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(blob[p..]);
            p += 4;
            if (len > int.MaxValue)
                throw Corrupt(Offset, "Zipmap integrity check failed (length)");
            return (int)len;
        }
        throw Corrupt(Offset, "Zipmap integrity check failed (length)");
    }

    private void SkipModuleValue()
    {
        while (true)
        {
            ulong opcode = ReadLength();
            switch (opcode)
            {
                case RdbConstants.ModuleOpcodeEof:
                    return;
                case RdbConstants.ModuleOpcodeSInt:
                case RdbConstants.ModuleOpcodeUInt:
                    ReadLength();
                    break;
                case RdbConstants.ModuleOpcodeFloat:
                    Skip(4);
                    break;
                case RdbConstants.ModuleOpcodeDouble:
                    Skip(8);
                    break;
                case RdbConstants.ModuleOpcodeString:
                    SkipString();
                    break;
                default:
                    throw Corrupt(Offset, "Unknown module opcode " + opcode);
            }
        }
    }

    private double ReadDoubleString()
    {
        byte len = ReadByte();
        switch (len)
        {
            case RdbConstants.DoubleNaN:
                return double.NaN;
            case RdbConstants.DoublePosInf:
                return double.PositiveInfinity;
            case RdbConstants.DoubleNegInf:
                return double.NegativeInfinity;
        }
        Span<byte> text = stackalloc byte[256];
        ReadExact(text[..len]);
        if (!TryParseStrtod(text[..len], out double value))
            throw Corrupt(Offset, "Bad double value");
        return value;
    }

    private static bool TryParseStrtod(ReadOnlySpan<byte> text, out double value)
    {
        Span<char> chars = stackalloc char[text.Length];
        for (int i = 0; i < text.Length; i++)
            chars[i] = (char)text[i];
        var trimmed = chars.Trim();
        if (trimmed.Equals("inf", StringComparison.OrdinalIgnoreCase) || trimmed.Equals("+inf", StringComparison.OrdinalIgnoreCase))
        {
            value = double.PositiveInfinity;
            return true;
        }
        if (trimmed.Equals("-inf", StringComparison.OrdinalIgnoreCase))
        {
            value = double.NegativeInfinity;
            return true;
        }
        return double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
    }

    // ------------------------------------------------------------------
    // Strings and lengths
    // ------------------------------------------------------------------

    /// <summary>Reads a length; a special-encoding first byte is corruption here.</summary>
    private ulong ReadLength()
    {
        long offset = Offset;
        ulong value = ReadLengthOrEncoding(out bool encoded);
        if (encoded)
            throw Corrupt(offset, "Unexpected string encoding where a length was expected");
        return value;
    }

    private ulong ReadLengthOrEncoding(out bool encoded)
    {
        long offset = Offset;
        byte first = ReadByte();
        encoded = false;
        switch (first >> 6)
        {
            case 0:
                return first;
            case 1:
                return ((ulong)(first & 0x3F) << 8) | ReadByte();
            case 3:
                encoded = true;
                return (ulong)(first & 0x3F);
        }
        if (first == RdbConstants.Len32Bit)
        {
            Span<byte> b = stackalloc byte[4];
            ReadExact(b);
            return BinaryPrimitives.ReadUInt32BigEndian(b);
        }
        if (first == RdbConstants.Len64Bit)
        {
            Span<byte> b = stackalloc byte[8];
            ReadExact(b);
            return BinaryPrimitives.ReadUInt64BigEndian(b);
        }
        throw Corrupt(offset, "Unknown length encoding " + first);
    }

    /// <summary>Reads a string (any encoding) into <paramref name="scratch"/>; the span is valid until the next read into it.</summary>
    private ReadOnlySpan<byte> ReadStringInto(ref byte[] scratch)
    {
        long offset = Offset;
        ulong len = ReadLengthOrEncoding(out bool encoded);
        if (encoded)
        {
            switch ((byte)len)
            {
                case RdbConstants.EncInt8:
                    return FormatInteger((sbyte)ReadByte(), ref scratch);
                case RdbConstants.EncInt16:
                {
                    Span<byte> b = stackalloc byte[2];
                    ReadExact(b);
                    return FormatInteger(BinaryPrimitives.ReadInt16LittleEndian(b), ref scratch);
                }
                case RdbConstants.EncInt32:
                    return FormatInteger(ReadInt32(), ref scratch);
                case RdbConstants.EncLzf:
                {
                    ulong compressed = ReadLength();
                    ulong original = ReadLength();
                    CheckLength(compressed, offset);
                    if (original > int.MaxValue - 64 || original > compressed * 1024 + 1024)
                        throw Corrupt(offset, "Invalid LZF compressed string (length " + original + ")");
                    EnsureScratch(ref scratch, (int)original);
                    int n;
                    if ((int)compressed <= _buffer.Length / 2)
                    {
                        // Decompress straight from the input buffer.
                        if (_end - _pos < (int)compressed)
                            Fill((int)compressed);
                        n = Lzf.Decompress(_buffer.AsSpan(_pos, (int)compressed), scratch.AsSpan(0, (int)original));
                        _pos += (int)compressed;
                    }
                    else
                    {
                        byte[] packed = System.Buffers.ArrayPool<byte>.Shared.Rent((int)compressed);
                        ReadExact(packed.AsSpan(0, (int)compressed));
                        n = Lzf.Decompress(packed.AsSpan(0, (int)compressed), scratch.AsSpan(0, (int)original));
                        System.Buffers.ArrayPool<byte>.Shared.Return(packed);
                    }
                    if (n != (int)original)
                        throw Corrupt(offset, "Invalid LZF compressed string");
                    return scratch.AsSpan(0, n);
                }
                default:
                    throw Corrupt(offset, "Unknown RDB string encoding type " + len);
            }
        }
        CheckLength(len, offset);
        EnsureScratch(ref scratch, (int)len);
        ReadExact(scratch.AsSpan(0, (int)len));
        return scratch.AsSpan(0, (int)len);
    }

    private void SkipString()
    {
        long offset = Offset;
        ulong len = ReadLengthOrEncoding(out bool encoded);
        if (!encoded)
        {
            CheckLength(len, offset);
            Skip((long)len);
            return;
        }
        switch ((byte)len)
        {
            case RdbConstants.EncInt8:
                Skip(1);
                break;
            case RdbConstants.EncInt16:
                Skip(2);
                break;
            case RdbConstants.EncInt32:
                Skip(4);
                break;
            case RdbConstants.EncLzf:
                ulong compressed = ReadLength();
                ReadLength();
                CheckLength(compressed, offset);
                Skip((long)compressed);
                break;
            default:
                throw Corrupt(offset, "Unknown RDB string encoding type " + len);
        }
    }

    private void CheckLength(ulong len, long offset)
    {
        if (len > int.MaxValue - 64)
            throw Corrupt(offset, "String length " + len + " too large");
        if (_streamEnd >= 0 && (long)len > _streamEnd - Offset)
            throw Corrupt(offset, "Unexpected EOF (string of " + len + " bytes past the end)");
    }

    private static void EnsureScratch(ref byte[] scratch, int size)
    {
        if (scratch.Length < size)
            scratch = new byte[Math.Max(size, scratch.Length * 2)];
    }

    private static ReadOnlySpan<byte> FormatInteger(long value, ref byte[] scratch)
    {
        EnsureScratch(ref scratch, 24);
        value.TryFormat(scratch, out int written, default, CultureInfo.InvariantCulture);
        return scratch.AsSpan(0, written);
    }

    // ------------------------------------------------------------------
    // Buffered input with a running CRC
    // ------------------------------------------------------------------

    private byte ReadByte()
    {
        if (_pos == _end)
            Fill(1);
        return _buffer[_pos++];
    }

    private long ReadInt64()
    {
        Span<byte> b = stackalloc byte[8];
        ReadExact(b);
        return BinaryPrimitives.ReadInt64LittleEndian(b);
    }

    private int ReadInt32()
    {
        Span<byte> b = stackalloc byte[4];
        ReadExact(b);
        return BinaryPrimitives.ReadInt32LittleEndian(b);
    }

    private void ReadExact(Span<byte> target)
    {
        while (!target.IsEmpty)
        {
            if (_pos == _end)
                Fill(1);
            int n = Math.Min(target.Length, _end - _pos);
            _buffer.AsSpan(_pos, n).CopyTo(target);
            _pos += n;
            target = target[n..];
        }
    }

    private void Skip(long count)
    {
        while (count > 0)
        {
            if (_pos == _end)
                Fill(1);
            int n = (int)Math.Min(count, _end - _pos);
            _pos += n;
            count -= n;
        }
    }

    /// <summary>Makes at least <paramref name="min"/> unread bytes available, or fails as truncated.</summary>
    private void Fill(int min)
    {
        // Fold the consumed bytes into the CRC, then move the unread ones to the front.
        _crc = Crc64.Update(_crc, _buffer.AsSpan(_crcFrom, _pos - _crcFrom));
        int unread = _end - _pos;
        _buffer.AsSpan(_pos, unread).CopyTo(_buffer);
        _consumedBefore += _pos;
        _pos = 0;
        _end = unread;
        _crcFrom = 0;
        while (_end < min)
        {
            int n = _eof ? 0 : _stream.Read(_buffer, _end, _buffer.Length - _end);
            if (n == 0)
            {
                _eof = true;
                throw Corrupt(Offset + _end, "Unexpected EOF reading RDB file");
            }
            _end += n;
        }
    }

    internal RdbCorruptException Corrupt(long offset, string reason) => new(offset, reason);
}
