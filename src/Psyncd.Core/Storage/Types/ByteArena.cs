namespace Psyncd.Storage.Types;

/// <summary>
/// Byte strings packed one after the other into shared slabs, each named by a 64-bit handle, for the members
/// of collections. A struct, kept in a field of its owner (whose methods change it in place): an object of its
/// own would add a header and a reference to every collection, small ones included. A byte array per member costs a 24-byte object header (plus padding to 8) on top of
/// its bytes, which was 40 of the 60 bytes a 13-byte set member took (redis-server: 16 for its sds); here a
/// member costs its bytes.
/// </summary>
/// <remarks>
/// <para>A handle is <c>slab (24 bits) | length (24 bits) | offset (16 bits)</c>. The first slab starts at the
/// size of what is stored and grows by copying (offsets do not change), so a small collection holds one array
/// about the size of its members and no slab table. Once it reaches <see cref="MaxSlabSize"/>, which stays below
/// the large object heap's threshold so that the collector can compact slabs, more slabs of that size follow.
/// A string longer than <see cref="MaxPackedLength"/> gets a slab of its own, exactly its size (its handle's
/// length field is <see cref="WholeSlab"/>), and that slab is let go as soon as the string is freed.</para>
/// <para>A freed packed string leaves a hole: the arena counts the bytes, and its owner rebuilds it
/// (<see cref="NeedsCompaction"/>, <see cref="Compacted"/>) once the holes outweigh the live bytes, which
/// keeps the cost of the copy to a constant per removal. Bytes once handed out are never overwritten by
/// another string (the arena only appends; growth and rebuilds copy), so a span read before a change still
/// shows what it showed.</para>
/// </remarks>
internal struct ByteArena
{
    internal const int MaxSlabSize = 64 * 1024;
    internal const int MaxPackedLength = 16 * 1024;
    private const int MinSlabSize = 16;
    private const long WholeSlab = 0xFFFFFF;

    /// <summary>Holes worth a rebuild only past this, so that small collections never copy.</summary>
    private const long MinCompactionBytes = 4096;

    /// <summary>Slab 0, apart so that an arena of one slab needs no table.</summary>
    private byte[]? _first;

    /// <summary>Every slab (index 0 unused: <see cref="_first"/>), once there is more than one.</summary>
    private byte[]?[]? _slabs;
    private int _slabCount;

    /// <summary>Where the next packed string goes in the last packed slab (<see cref="_packSlab"/>), once <see cref="_packing"/>.</summary>
    private bool _packing;
    private int _packSlab;
    private int _packOffset;

    /// <summary>True while the pack slab is the first packed one and below full size: it grows by copying.</summary>
    private bool _growing;

    private long _liveBytes;
    private long _deadBytes;
    private int _freedSlabs;

    /// <summary>Bytes of the strings stored now.</summary>
    public readonly long LiveBytes => _liveBytes;

    /// <summary>Copies <paramref name="bytes"/> into the arena and returns its handle.</summary>
    public long Add(ReadOnlySpan<byte> bytes)
    {
        long handle = Allocate(bytes.Length, out var target);
        bytes.CopyTo(target);
        return handle;
    }

    /// <summary>Room for a string of <paramref name="length"/> bytes, which the caller writes into <paramref name="target"/>.</summary>
    public long Allocate(int length, out Span<byte> target)
    {
        _liveBytes += length;
        if (length > MaxPackedLength)
        {
            int own = NewSlab(length);
            target = Slab(own);
            return ((long)own << 40) | (WholeSlab << 16);
        }
        if (!_packing || Slab(_packSlab).Length - _packOffset < length)
            MakeRoom(length);
        int offset = _packOffset;
        target = Slab(_packSlab).AsSpan(offset, length);
        _packOffset += length;
        return ((long)_packSlab << 40) | ((long)length << 16) | (uint)offset;
    }

    /// <summary>Room for <paramref name="length"/> more packed bytes: the first slab grows while it is the only one; else a new slab.</summary>
    private void MakeRoom(int length)
    {
        if (_growing)
        {
            var current = Slab(_packSlab);
            int size = Math.Min(MaxSlabSize, Math.Max(_packOffset + length, current.Length * 2));
            if (size >= _packOffset + length)
            {
                var grown = GC.AllocateUninitializedArray<byte>(size);
                current.AsSpan(0, _packOffset).CopyTo(grown);
                SetSlab(_packSlab, grown);
                _growing = size < MaxSlabSize;
                return;
            }
        }
        // The first packed slab starts small and grows; the ones after it are full-sized.
        bool first = !_packing;
        _packSlab = NewSlab(first ? Math.Max(MinSlabSize, length) : MaxSlabSize);
        _packing = true;
        _packOffset = 0;
        _growing = first;
    }

    private readonly byte[] Slab(int index) => (index == 0 ? _first : _slabs![index])!;

    private void SetSlab(int index, byte[]? slab)
    {
        if (index == 0)
            _first = slab;
        else
            _slabs![index] = slab;
    }

    /// <summary>The bytes of <paramref name="handle"/> to overwrite in place (a hash value of the same length).</summary>
    public readonly Span<byte> GetWritable(long handle)
    {
        var slab = Slab((int)(handle >>> 40));
        long length = (handle >> 16) & WholeSlab;
        return length == WholeSlab ? slab : new Span<byte>(slab, (int)(handle & 0xFFFF), (int)length);
    }

    /// <summary>The bytes of <paramref name="handle"/>, valid until the arena changes.</summary>
    public readonly ReadOnlySpan<byte> Get(long handle) => GetWritable(handle);

    /// <summary>Frees the string of <paramref name="handle"/>; its bytes stay as a hole until a rebuild.</summary>
    public void Free(long handle)
    {
        int slab = (int)(handle >>> 40);
        long length = (handle >> 16) & WholeSlab;
        if (length == WholeSlab)
        {
            _liveBytes -= Slab(slab).Length;
            SetSlab(slab, null);
            _freedSlabs++;
            return;
        }
        _liveBytes -= length;
        _deadBytes += length;
    }

    /// <summary>True when holes (freed bytes, or slots of freed own slabs) outweigh what is live.</summary>
    public readonly bool NeedsCompaction =>
        (_deadBytes > MinCompactionBytes && _deadBytes > _liveBytes) || (_freedSlabs > 64 && _freedSlabs > _slabCount / 2);

    /// <summary>
    /// A new arena for a rebuild, its first slab sized for what is live now (so that a rebuilt arena is dense):
    /// the owner adds every live string to it and keeps the new handles.
    /// </summary>
    public readonly ByteArena Compacted()
    {
        var fresh = new ByteArena();
        long packed = Math.Min(_liveBytes, MaxSlabSize);
        if (packed > 0)
        {
            fresh._packSlab = fresh.NewSlab((int)Math.Max(MinSlabSize, packed));
            fresh._packing = true;
            fresh._growing = packed < MaxSlabSize;
        }
        return fresh;
    }

    /// <summary>Bytes the arena holds from the collector: its slabs and their table.</summary>
    public readonly long AllocatedBytes()
    {
        long total = (_slabs?.Length ?? 0) * 8L + (_first?.Length ?? 0);
        for (int i = 1; i < _slabCount; i++)
            total += _slabs![i]?.Length ?? 0;
        return total;
    }

    private int NewSlab(int size)
    {
        // Uninitialized: every byte handed out is written by Allocate's caller first.
        var slab = GC.AllocateUninitializedArray<byte>(size);
        if (_slabCount == 0)
        {
            _first = slab;
            return _slabCount++;
        }
        if (_slabs is null)
            _slabs = new byte[]?[4];
        else if (_slabCount == _slabs.Length)
            Array.Resize(ref _slabs, _slabCount * 2);
        _slabs[_slabCount] = slab;
        return _slabCount++;
    }
}
