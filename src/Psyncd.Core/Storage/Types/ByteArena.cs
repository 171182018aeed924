namespace Psyncd.Storage.Types;

/// <summary>
/// Byte strings packed one after the other into shared slabs, each named by a 64-bit handle, for the members
/// of large collections. A byte array per member costs a 24-byte object header (plus padding to 8) on top of
/// its bytes, which was 40 of the 60 bytes a 13-byte set member took (redis-server: 16 for its sds); here a
/// member costs its bytes.
/// </summary>
/// <remarks>
/// <para>A handle is <c>slab (24 bits) | length (24 bits) | offset (16 bits)</c>. Slabs start at
/// <see cref="FirstSlabSize"/> bytes and double up to <see cref="MaxSlabSize"/>, which stays below the large
/// object heap's threshold so that the collector can compact them. A string longer than
/// <see cref="MaxPackedLength"/> gets a slab of its own, exactly its size (its handle's length field is
/// <see cref="WholeSlab"/>), and that slab is let go as soon as the string is freed.</para>
/// <para>A freed packed string leaves a hole: the arena counts the bytes, and its owner rebuilds it
/// (<see cref="NeedsCompaction"/>, <see cref="Compacted"/>) once the holes outweigh the live bytes, which
/// keeps the cost of the copy to a constant per removal.</para>
/// </remarks>
internal sealed class ByteArena
{
    internal const int FirstSlabSize = 64;
    internal const int MaxSlabSize = 64 * 1024;
    internal const int MaxPackedLength = 16 * 1024;
    private const long WholeSlab = 0xFFFFFF;

    /// <summary>Holes worth a rebuild only past this, so that small collections never copy.</summary>
    private const long MinCompactionBytes = 4096;

    private byte[]?[] _slabs = new byte[]?[4];
    private int _slabCount;

    /// <summary>Where the next packed string goes in the last packed slab (<see cref="_packSlab"/>).</summary>
    private int _packSlab = -1;
    private int _packOffset;
    private int _nextSlabSize = FirstSlabSize;

    private long _liveBytes;
    private long _deadBytes;
    private int _freedSlabs;

    /// <summary>Bytes of the strings stored now.</summary>
    public long LiveBytes => _liveBytes;

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
            target = _slabs[own];
            return ((long)own << 40) | (WholeSlab << 16);
        }
        if (_packSlab < 0 || _slabs[_packSlab]!.Length - _packOffset < length)
        {
            _packSlab = NewSlab(Math.Max(_nextSlabSize, length));
            _packOffset = 0;
            _nextSlabSize = Math.Min(_nextSlabSize * 2, MaxSlabSize);
        }
        int offset = _packOffset;
        target = _slabs[_packSlab].AsSpan(offset, length);
        _packOffset += length;
        return ((long)_packSlab << 40) | ((long)length << 16) | (uint)offset;
    }

    /// <summary>The bytes of <paramref name="handle"/> to overwrite in place (a hash value of the same length).</summary>
    public Span<byte> GetWritable(long handle)
    {
        var slab = _slabs[(int)(handle >>> 40)]!;
        long length = (handle >> 16) & WholeSlab;
        return length == WholeSlab ? slab : new Span<byte>(slab, (int)(handle & 0xFFFF), (int)length);
    }

    /// <summary>The bytes of <paramref name="handle"/>, valid until the arena changes.</summary>
    public ReadOnlySpan<byte> Get(long handle) => GetWritable(handle);

    /// <summary>Frees the string of <paramref name="handle"/>; its bytes stay as a hole until a rebuild.</summary>
    public void Free(long handle)
    {
        int slab = (int)(handle >>> 40);
        long length = (handle >> 16) & WholeSlab;
        if (length == WholeSlab)
        {
            _liveBytes -= _slabs[slab]!.Length;
            _slabs[slab] = null;
            _freedSlabs++;
            return;
        }
        _liveBytes -= length;
        _deadBytes += length;
    }

    /// <summary>True when holes (freed bytes, or slots of freed own slabs) outweigh what is live.</summary>
    public bool NeedsCompaction =>
        (_deadBytes > MinCompactionBytes && _deadBytes > _liveBytes) || (_freedSlabs > 64 && _freedSlabs > _slabCount / 2);

    /// <summary>
    /// A new arena for a rebuild, its first slab sized for what is live now (so that a rebuilt arena is dense):
    /// the owner adds every live string to it and keeps the new handles.
    /// </summary>
    public ByteArena Compacted() => new() { _nextSlabSize = (int)Math.Clamp(_liveBytes, FirstSlabSize, MaxSlabSize) };

    /// <summary>Bytes the arena holds from the collector: its slabs and their table.</summary>
    public long AllocatedBytes()
    {
        long total = _slabs.Length * 8L;
        for (int i = 0; i < _slabCount; i++)
            total += _slabs[i]?.Length ?? 0;
        return total;
    }

    private int NewSlab(int size)
    {
        if (_slabCount == _slabs.Length)
            Array.Resize(ref _slabs, _slabCount * 2);
        // Uninitialized: every byte handed out is written by Add first.
        _slabs[_slabCount] = GC.AllocateUninitializedArray<byte>(size);
        return _slabCount++;
    }
}
