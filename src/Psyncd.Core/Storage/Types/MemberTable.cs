using System.Runtime.CompilerServices;

namespace Psyncd.Storage.Types;

/// <summary>
/// How a <see cref="MemberTable{T, TKey}"/> finds the member bytes of an item. A struct, so that the table's
/// code is compiled for it and the call inlined; it may carry what the bytes live in (a <see cref="ByteArena"/>).
/// </summary>
internal interface IMemberKey<T>
{
    ReadOnlySpan<byte> KeyOf(T item);
}

/// <summary>
/// A chained hash table of items keyed by member bytes, built for the set and sorted set types:
/// <list type="bullet">
/// <item>items are kept dense in <c>_entries[0.._count)</c> (a removal moves the last item into the hole),
/// so a uniformly random item is one array index away (SPOP, SRANDMEMBER);</item>
/// <item>the bucket array is a power of two and only doubles or halves, so SSCAN/ZSCAN can walk buckets
/// with Redis's reverse-binary cursor and keep its guarantee (an element present for the whole scan is
/// returned at least once) across resizes;</item>
/// <item>an entry is 16 bytes (item, next, hash) and a bucket 4, which keeps a member's overhead near
/// redis-server's dictEntry plus bucket.</item>
/// </list>
/// </summary>
internal sealed class MemberTable<T, TKey>
    where TKey : struct, IMemberKey<T>
{
    private const int MinBuckets = 4;

    private struct Slot
    {
        public T Item;

        /// <summary>Index + 1 of the next entry in the bucket's chain; 0 ends it.</summary>
        public int Next;

        public int Hash;
    }

    /// <summary>Index + 1 of each bucket's first entry; 0 for an empty bucket.</summary>
    private int[] _buckets = new int[MinBuckets];
    private Slot[] _entries = new Slot[MinBuckets];
    private int _count;

    /// <summary>Finds an item's member bytes.</summary>
    private readonly TKey _key;

    public MemberTable(TKey key = default)
    {
        _key = key;
    }

    public int Count => _count;

    /// <summary>Replaces the item at <paramref name="index"/> with one of the same member (moved bytes).</summary>
    public void SetItemAt(int index, T item) => _entries[index].Item = item;

    /// <summary>The item at dense position <paramref name="index"/> (0 ≤ index &lt; Count).</summary>
    public T ItemAt(int index) => _entries[index].Item;

    /// <summary>Index of the item whose member is <paramref name="member"/>, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int Find(ReadOnlySpan<byte> member) => Find(member, ByteArrayComparer.Hash(member));

    public int Find(ReadOnlySpan<byte> member, int hash)
    {
        var entries = _entries;
        int i = _buckets[hash & (_buckets.Length - 1)];
        while (i != 0)
        {
            ref var slot = ref entries[i - 1];
            if (slot.Hash == hash && _key.KeyOf(slot.Item).SequenceEqual(member))
                return i - 1;
            i = slot.Next;
        }
        return -1;
    }

    /// <summary>Adds an item whose member is known to be absent; <paramref name="hash"/> is the member's hash.</summary>
    public void AddNew(T item, int hash)
    {
        if (_count == _entries.Length)
            Array.Resize(ref _entries, _count < 1024 ? _count * 2 : _count + _count / 2);
        if (_count >= _buckets.Length)
            Rehash(_buckets.Length * 2);
        int b = hash & (_buckets.Length - 1);
        ref var slot = ref _entries[_count];
        slot.Item = item;
        slot.Hash = hash;
        slot.Next = _buckets[b];
        _buckets[b] = ++_count;
    }

    /// <summary>Removes the item of <paramref name="member"/>; false when absent.</summary>
    public bool Remove(ReadOnlySpan<byte> member, out T item)
    {
        int hash = ByteArrayComparer.Hash(member);
        int b = hash & (_buckets.Length - 1);
        ref int link = ref _buckets[b];
        while (link != 0)
        {
            int index = link - 1;
            ref var slot = ref _entries[index];
            if (slot.Hash == hash && _key.KeyOf(slot.Item).SequenceEqual(member))
            {
                item = slot.Item;
                link = slot.Next;
                FillHole(index);
                return true;
            }
            link = ref slot.Next;
        }
        item = default!;
        return false;
    }

    /// <summary>Removes the item at dense position <paramref name="index"/>.</summary>
    public T RemoveAt(int index)
    {
        var item = _entries[index].Item;
        ref int link = ref _buckets[_entries[index].Hash & (_buckets.Length - 1)];
        while (link != index + 1)
            link = ref _entries[link - 1].Next;
        link = _entries[index].Next;
        FillHole(index);
        return item;
    }

    /// <summary>Moves the last entry into the unlinked position <paramref name="hole"/>, then shrinks if sparse.</summary>
    private void FillHole(int hole)
    {
        int last = --_count;
        if (hole != last)
        {
            ref int link = ref _buckets[_entries[last].Hash & (_buckets.Length - 1)];
            while (link != last + 1)
                link = ref _entries[link - 1].Next;
            link = hole + 1;
            _entries[hole] = _entries[last];
        }
        _entries[last] = default;
        if (_buckets.Length > MinBuckets && _count < _buckets.Length / 8)
        {
            Rehash(Math.Max(MinBuckets, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)Math.Max(1, _count))));
            if (_entries.Length > 64 && _count < _entries.Length / 4)
                Array.Resize(ref _entries, Math.Max(_count * 2, MinBuckets));
        }
    }

    private void Rehash(int bucketCount)
    {
        var buckets = new int[bucketCount];
        int mask = bucketCount - 1;
        var entries = _entries;
        for (int i = 0; i < _count; i++)
        {
            ref var slot = ref entries[i];
            int b = slot.Hash & mask;
            slot.Next = buckets[b];
            buckets[b] = i + 1;
        }
        _buckets = buckets;
    }

    /// <summary>Empties the table.</summary>
    public void Clear()
    {
        _buckets = new int[MinBuckets];
        _entries = new Slot[MinBuckets];
        _count = 0;
    }

    /// <summary>
    /// One step of a SCAN over the table: visits the items of the bucket(s) that <paramref name="cursor"/>
    /// designates, and returns the next cursor (0 when the scan is complete). The cursor counts buckets in
    /// reverse-binary order, so that doubling or halving the bucket array between calls neither skips
    /// buckets already due nor repeats more than the split/merged ones.
    /// </summary>
    public ulong ScanStep(ulong cursor, Action<T> visit)
    {
        if (_count == 0)
            return 0;
        ulong mask = (ulong)_buckets.Length - 1;
        int i = _buckets[(int)(cursor & mask)];
        while (i != 0)
        {
            visit(_entries[i - 1].Item);
            i = _entries[i - 1].Next;
        }
        // Increment the reversed cursor over the mask's bits.
        cursor |= ~mask;
        cursor = ReverseBits(cursor);
        cursor++;
        cursor = ReverseBits(cursor);
        return cursor;
    }

    private static ulong ReverseBits(ulong v)
    {
        ulong r = 0;
        for (int i = 0; i < 64; i++)
        {
            r = (r << 1) | (v & 1);
            v >>= 1;
        }
        return r;
    }
}
