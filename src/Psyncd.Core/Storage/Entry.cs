using System.Runtime.CompilerServices;

namespace Psyncd.Storage;

/// <summary>
/// A key's value as a lookup found it.
/// </summary>
/// <remarks>
/// <b>Valid only until the next write to the keyspace.</b> <see cref="String"/> may point into the record
/// log, and a write (to any key) may change or move those bytes. A command that reads a value and then
/// writes must finish using the value first (write the reply, or copy it).
/// </remarks>
public readonly unsafe ref struct Entry
{
    private readonly ReadOnlySpan<byte> _string;

    internal Entry(RecordRef record, ValueKind kind, long expireAt, ReadOnlySpan<byte> stringValue, RedisObject? obj, int lru)
    {
        Record = record;
        Exists = true;
        Kind = kind;
        ExpireAt = expireAt;
        _string = stringValue;
        Object = obj;
        Lru = lru;
    }

    /// <summary>False when the key does not exist (or has logically expired).</summary>
    public bool Exists { get; }

    public ValueKind Kind { get; }

    /// <summary>Absolute expiry in unix milliseconds, or -1 when the key has no time to live.</summary>
    public long ExpireAt { get; }

    /// <summary>The value of a string key.</summary>
    public ReadOnlySpan<byte> String => _string;

    /// <summary>The value of a collection key.</summary>
    public RedisObject? Object { get; }

    /// <summary>True when the key exists and holds a value of <paramref name="kind"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Is(ValueKind kind) => Exists && Kind == kind;

    /// <summary>True when the key exists with another type than <paramref name="kind"/> (a WRONGTYPE error).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool IsNot(ValueKind kind) => Exists && Kind != kind;

    /// <summary>The collection, typed; the caller has checked <see cref="Kind"/>.</summary>
    public T As<T>()
        where T : RedisObject => (T)Object!;

    /// <summary>How OBJECT ENCODING reports this string (an existing string key only).</summary>
    public StringEncodingHint EncodingHint => ValueLayout.EncodingHint(Record.Value);

    /// <summary>The LRU clock stored with the record (for OBJECT IDLETIME).</summary>
    internal int Lru { get; }

    internal RecordRef Record { get; }
}
