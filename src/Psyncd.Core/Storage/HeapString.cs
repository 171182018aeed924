namespace Psyncd.Storage;

/// <summary>
/// A string too large to live inline in a record (see <c>Keyspace.MaxInlineStringLength</c>), kept in the
/// object heap. It has spare capacity so that APPEND and SETRANGE grow it without copying every time.
/// </summary>
internal sealed class HeapString
{
    public HeapString(ReadOnlySpan<byte> value, int capacity)
    {
        Data = GC.AllocateUninitializedArray<byte>(Math.Max(capacity, value.Length));
        value.CopyTo(Data);
        Length = value.Length;
    }

    /// <summary>Storage; bytes [0, <see cref="Length"/>) are the value.</summary>
    public byte[] Data { get; private set; }

    public int Length { get; private set; }

    public ReadOnlySpan<byte> Value => Data.AsSpan(0, Length);

    /// <summary>Sets the length to <paramref name="length"/>, growing storage if needed; new bytes are zero.</summary>
    public Span<byte> Resize(int length)
    {
        if (length > Data.Length)
        {
            // Grow like Redis's sds: double while small, then add a megabyte at a time.
            long capacity = length < 1024 * 1024 ? (long)length * 2 : length + 1024L * 1024;
            var bigger = GC.AllocateUninitializedArray<byte>((int)Math.Min(capacity, Array.MaxLength));
            Data.AsSpan(0, Length).CopyTo(bigger);
            Data = bigger;
        }
        if (length > Length)
            Data.AsSpan(Length, length - Length).Clear();
        Length = length;
        return Data.AsSpan(0, length);
    }
}
