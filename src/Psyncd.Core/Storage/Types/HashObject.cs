using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using Psyncd.Text;

namespace Psyncd.Storage.Types;

/// <summary>
/// A hash value: an open-addressing table (linear probing, deletion by backward shift) whose slots each
/// hold the handle of one string, in a <see cref="ByteArena"/>, packing a field and its value. No object per
/// field (its header was 24 of the 48 bytes a 1M-field hash's entry took), plus 12 bytes of table per slot,
/// keeps a large hash below Redis's memory use. Contract used by commands and by the RDB reader/writer: Set,
/// TryGet, Remove, Count, and Entries.
/// </summary>
/// <remarks>
/// A slot's string is <c>fieldLength field value</c>, the field length as a LEB128 varint; the value is
/// the rest. Handle 0 is an empty slot (a packed string has at least its length byte, so no handle is 0).
/// A parallel array caches each slot's hash so that probes rarely touch the strings.
/// HSCAN's cursor walks <i>home buckets</i> (hash &amp; mask) in reverse-binary order, as Redis's dictScan
/// does, so a field present for a whole scan is returned even if the table grows or shrinks meanwhile.
/// </remarks>
public sealed class HashObject : RedisObject
{
    private static readonly ulong s_seed = OsRandom.UInt64();

    private long[] _slots;
    private int[] _hashes;
    private ByteArena _arena;
    private int _mask;
    private int _count;

    /// <summary>The most fields this hash ever held, and its longest field or value ever: Redis converts a
    /// compact hash to a table once past the limits and never back, which OBJECT ENCODING and HSCAN show.</summary>
    private int _peakCount;
    private int _peakLength;

    public HashObject()
        : this(4)
    {
    }

    private HashObject(int capacity)
    {
        _slots = new long[capacity];
        _hashes = new int[capacity];
        _mask = capacity - 1;
    }

    public override ValueKind Kind => ValueKind.Hash;

    public override long Count => _count;

    // ------------------------------------------------------------------
    // Fields
    // ------------------------------------------------------------------

    /// <summary>Sets a field; returns true when the field is new.</summary>
    public bool Set(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
    {
        int longest = Math.Max(field.Length, value.Length);
        if (longest > _peakLength)
            _peakLength = longest;
        int hash = Hash(field);
        int slot = Find(field, hash);
        if (slot >= 0)
        {
            long old = _slots[slot];
            var entry = _arena.GetWritable(old);
            int header = FieldStart(entry, out int fieldLength);
            int valueStart = header + fieldLength;
            if (entry.Length - valueStart == value.Length)
            {
                value.CopyTo(entry[valueStart..]);
                return false;
            }
            _slots[slot] = Pack(field, value);
            Release(old);
            return false;
        }
        if (_count + 1 > (_mask + 1) - ((_mask + 1) >> 2))
        {
            Resize((_mask + 1) * 2);
            slot = Find(field, hash);
        }
        slot = ~slot;
        _slots[slot] = Pack(field, value);
        _hashes[slot] = hash;
        _count++;
        if (_count > _peakCount)
            _peakCount = _count;
        return true;
    }

    /// <summary>The value of <paramref name="field"/>, copied.</summary>
    public bool TryGet(ReadOnlySpan<byte> field, out byte[] value)
    {
        if (TryGetSpan(field, out var span))
        {
            value = span.ToArray();
            return true;
        }
        value = null!;
        return false;
    }

    /// <summary>The value of <paramref name="field"/>, valid until the hash changes.</summary>
    public bool TryGetSpan(ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        int slot = Find(field, Hash(field));
        if (slot < 0)
        {
            value = default;
            return false;
        }
        value = ValueOf(_arena.Get(_slots[slot]));
        return true;
    }

    public bool Contains(ReadOnlySpan<byte> field) => Find(field, Hash(field)) >= 0;

    public bool Remove(ReadOnlySpan<byte> field)
    {
        int slot = Find(field, Hash(field));
        if (slot < 0)
            return false;
        long handle = _slots[slot];
        RemoveAt(slot);
        _count--;
        int capacity = _mask + 1;
        if (capacity > 4 && _count < capacity / 8)
            Resize(Math.Max(4, (int)BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, _count * 2))));
        Release(handle);
        return true;
    }

    /// <summary>Field/value pairs, copied, in no particular order (for RDB and tests; commands walk slots).</summary>
    public IEnumerable<KeyValuePair<byte[], byte[]>> Entries
    {
        get
        {
            for (int i = 0; i < _slots.Length; i++)
            {
                if (TryGetSlot(i, out var name, out var value))
                    yield return new(name.ToArray(), value.ToArray());
            }
        }
    }

    // ------------------------------------------------------------------
    // Walking slots (HGETALL, HKEYS, HVALS, HSCAN)
    // ------------------------------------------------------------------

    /// <summary>Number of slots; iterate <see cref="TryGetSlot"/> over [0, SlotCount).</summary>
    public int SlotCount => _slots.Length;

    /// <summary>The field and value in <paramref name="slot"/>, if it is occupied; valid until the hash changes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryGetSlot(int slot, out ReadOnlySpan<byte> field, out ReadOnlySpan<byte> value)
    {
        long handle = _slots[slot];
        if (handle == 0)
        {
            field = value = default;
            return false;
        }
        var entry = _arena.Get(handle);
        int header = FieldStart(entry, out int fieldLength);
        field = entry.Slice(header, fieldLength);
        value = entry[(header + fieldLength)..];
        return true;
    }

    /// <summary>
    /// One step of HSCAN: adds to <paramref name="slots"/> the slots of the fields whose home bucket is visited,
    /// visiting buckets from <paramref name="cursor"/> until about <paramref name="count"/> fields are found
    /// (or ten times as many buckets were visited). Returns the next cursor, 0 when the scan is complete.
    /// </summary>
    public ulong Scan(ulong cursor, long count, List<int> slots)
    {
        ulong mask = (ulong)_mask;
        long budget = count > long.MaxValue / 10 ? long.MaxValue : count * 10;
        do
        {
            int home = (int)(cursor & mask);
            for (int i = home; _slots[i] != 0; i = (i + 1) & _mask)
            {
                if ((_hashes[i] & _mask) == home)
                    slots.Add(i);
            }
            // Increment the reversed cursor (Redis's dictScan order).
            cursor |= ~mask;
            cursor = ReverseBits(cursor);
            cursor++;
            cursor = ReverseBits(cursor);
        }
        while (cursor != 0 && --budget > 0 && slots.Count < count);
        return cursor;
    }

    private static ulong ReverseBits(ulong v)
    {
        v = ((v >> 1) & 0x5555555555555555UL) | ((v & 0x5555555555555555UL) << 1);
        v = ((v >> 2) & 0x3333333333333333UL) | ((v & 0x3333333333333333UL) << 2);
        v = ((v >> 4) & 0x0F0F0F0F0F0F0F0FUL) | ((v & 0x0F0F0F0F0F0F0F0FUL) << 4);
        return BinaryPrimitives.ReverseEndianness(v);
    }

    // ------------------------------------------------------------------
    // Table
    // ------------------------------------------------------------------

    /// <summary>The slot holding <paramref name="field"/>, or the complement of the free slot where it would go.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int Find(ReadOnlySpan<byte> field, int hash)
    {
        var slots = _slots;
        var hashes = _hashes;
        int mask = _mask;
        int i = hash & mask;
        while (true)
        {
            long handle = slots[i];
            if (handle == 0)
                return ~i;
            if (hashes[i] == hash && FieldEquals(_arena.Get(handle), field))
                return i;
            i = (i + 1) & mask;
        }
    }

    /// <summary>Empties a slot and shifts back the entries after it that would no longer be found.</summary>
    private void RemoveAt(int hole)
    {
        var slots = _slots;
        int mask = _mask;
        int j = hole;
        while (true)
        {
            j = (j + 1) & mask;
            if (slots[j] == 0)
                break;
            int home = _hashes[j] & mask;
            // Move j into the hole unless its home lies cyclically in (hole, j].
            bool stays = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
            if (stays)
                continue;
            slots[hole] = slots[j];
            _hashes[hole] = _hashes[j];
            hole = j;
        }
        slots[hole] = 0;
        _hashes[hole] = 0;
    }

    private void Resize(int capacity)
    {
        var oldSlots = _slots;
        var oldHashes = _hashes;
        _slots = new long[capacity];
        _hashes = new int[capacity];
        _mask = capacity - 1;
        for (int s = 0; s < oldSlots.Length; s++)
        {
            long entry = oldSlots[s];
            if (entry == 0)
                continue;
            int hash = oldHashes[s];
            int i = hash & _mask;
            while (_slots[i] != 0)
                i = (i + 1) & _mask;
            _slots[i] = entry;
            _hashes[i] = hash;
        }
    }

    // ------------------------------------------------------------------
    // Entry packing
    // ------------------------------------------------------------------

    /// <summary>Frees a replaced or removed entry, and rebuilds the arena once holes outweigh the live bytes.</summary>
    private void Release(long handle)
    {
        _arena.Free(handle);
        if (!_arena.NeedsCompaction)
            return;
        var fresh = _arena.Compacted();
        for (int i = 0; i < _slots.Length; i++)
        {
            if (_slots[i] != 0)
                _slots[i] = fresh.Add(_arena.Get(_slots[i]));
        }
        _arena = fresh;
    }

    private long Pack(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
    {
        int header = VarintSize(field.Length);
        long handle = _arena.Allocate(header + field.Length + value.Length, out var entry);
        uint n = (uint)field.Length;
        int p = 0;
        while (n >= 0x80)
        {
            entry[p++] = (byte)(n | 0x80);
            n >>= 7;
        }
        entry[p] = (byte)n;
        field.CopyTo(entry[header..]);
        value.CopyTo(entry[(header + field.Length)..]);
        return handle;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int VarintSize(int n) => n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;

    /// <summary>Offset of the field in an entry; its length in <paramref name="fieldLength"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int FieldStart(ReadOnlySpan<byte> entry, out int fieldLength)
    {
        byte b = entry[0];
        if (b < 0x80)
        {
            fieldLength = b;
            return 1;
        }
        int n = b & 0x7F;
        int shift = 7;
        int p = 1;
        while (true)
        {
            b = entry[p++];
            n |= (b & 0x7F) << shift;
            if (b < 0x80)
                break;
            shift += 7;
        }
        fieldLength = n;
        return p;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool FieldEquals(ReadOnlySpan<byte> entry, ReadOnlySpan<byte> field)
    {
        int header = FieldStart(entry, out int fieldLength);
        return fieldLength == field.Length && entry.Slice(header, fieldLength).SequenceEqual(field);
    }

    private static ReadOnlySpan<byte> ValueOf(ReadOnlySpan<byte> entry)
    {
        int header = FieldStart(entry, out int fieldLength);
        return entry[(header + fieldLength)..];
    }

    /// <summary>A seeded 64-bit mix of the bytes, folded to 32 bits.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(ReadOnlySpan<byte> data)
    {
        ulong h = s_seed ^ ((ulong)data.Length * 0x9E3779B97F4A7C15UL);
        while (data.Length >= 8)
        {
            h = (h ^ BinaryPrimitives.ReadUInt64LittleEndian(data)) * 0xBF58476D1CE4E5B9UL;
            h ^= h >> 31;
            data = data[8..];
        }
        if (!data.IsEmpty)
        {
            ulong tail = 0;
            for (int i = 0; i < data.Length; i++)
                tail |= (ulong)data[i] << (8 * i);
            h = (h ^ tail) * 0x94D049BB133111EBUL;
        }
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 32;
        return (int)h;
    }

    // ------------------------------------------------------------------
    // RedisObject
    // ------------------------------------------------------------------

    public override string EncodingName(EncodingLimits limits)
    {
        return _peakCount > limits.HashMaxZiplistEntries || _peakLength > limits.HashMaxZiplistValue ? "hashtable" : "ziplist";
    }

    public override RedisObject Clone()
    {
        var copy = new HashObject(_slots.Length);
        for (int i = 0; i < _slots.Length; i++)
        {
            if (_slots[i] != 0)
                copy._slots[i] = copy._arena.Add(_arena.Get(_slots[i]));
        }
        _hashes.AsSpan().CopyTo(copy._hashes);
        copy._count = _count;
        copy._peakCount = _peakCount;
        copy._peakLength = _peakLength;
        return copy;
    }
}
