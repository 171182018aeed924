using System.Runtime.CompilerServices;

namespace Psyncd.Storage;

/// <summary>
/// Equality of byte strings by content, for dictionaries and sets keyed by <c>byte[]</c>. Lookups can be
/// made with a <see cref="ReadOnlySpan{T}"/> without allocating, through
/// <c>dictionary.GetAlternateLookup&lt;ReadOnlySpan&lt;byte&gt;&gt;()</c>.
/// </summary>
public sealed class ByteArrayComparer : IEqualityComparer<byte[]>, IAlternateEqualityComparer<ReadOnlySpan<byte>, byte[]>
{
    public static readonly ByteArrayComparer Instance = new();

    private ByteArrayComparer()
    {
    }

    public bool Equals(byte[]? x, byte[]? y)
    {
        if (ReferenceEquals(x, y))
            return true;
        if (x is null || y is null)
            return false;
        return x.AsSpan().SequenceEqual(y);
    }

    public int GetHashCode(byte[] obj) => Hash(obj);

    public bool Equals(ReadOnlySpan<byte> alternate, byte[] other) => alternate.SequenceEqual(other);

    public int GetHashCode(ReadOnlySpan<byte> alternate) => Hash(alternate);

    public byte[] Create(ReadOnlySpan<byte> alternate) => alternate.ToArray();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int Hash(ReadOnlySpan<byte> bytes)
    {
        // HashCode is seeded per process, like Redis's SipHash, so crafted keys can't force collisions.
        var hash = default(HashCode);
        hash.AddBytes(bytes);
        return hash.ToHashCode();
    }
}
