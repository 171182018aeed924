namespace Psyncd.Storage;

/// <summary>
/// A collection value (list, set, sorted set, hash). It lives in the managed heap, referenced from its key's
/// record by an <see cref="ObjectHeap"/> handle, and is mutated in place by commands. After mutating one,
/// a command calls <c>Database.Modified</c> so that WATCH, blocked clients, the dirty counter and a
/// running snapshot learn of it. Data-type classes know nothing of RESP or of the store.
/// </summary>
public abstract class RedisObject
{
    public abstract ValueKind Kind { get; }

    /// <summary>Number of elements; a collection with none must be deleted, never stored.</summary>
    public abstract long Count { get; }

    /// <summary>OBJECT ENCODING's answer, given the configured compact-encoding limits.</summary>
    public abstract string EncodingName(EncodingLimits limits);

    /// <summary>A deep copy (for commands such as SORT ... STORE into the same key, or RDB round trips in tests).</summary>
    public abstract RedisObject Clone();
}

/// <summary>The compact-encoding thresholds of redis.conf, which decide OBJECT ENCODING and RDB encodings.</summary>
public sealed record EncodingLimits(
    long HashMaxZiplistEntries = 512,
    long HashMaxZiplistValue = 64,
    long ListMaxZiplistEntries = 512,
    long ListMaxZiplistValue = 64,
    long SetMaxIntsetEntries = 512,
    long ZsetMaxZiplistEntries = 128,
    long ZsetMaxZiplistValue = 64);
