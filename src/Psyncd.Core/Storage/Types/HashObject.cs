namespace Psyncd.Storage.Types;

/// <summary>
/// A hash value. Contract used by commands and by the RDB reader/writer: Set, TryGet, Remove, Count,
/// and Entries. The representation behind it may change.
/// </summary>
public sealed class HashObject : RedisObject
{
    private readonly Dictionary<byte[], byte[]> _fields = new(ByteArrayComparer.Instance);

    public override ValueKind Kind => ValueKind.Hash;

    public override long Count => _fields.Count;

    /// <summary>Sets a field; returns true when the field is new.</summary>
    public bool Set(ReadOnlySpan<byte> field, ReadOnlySpan<byte> value)
    {
        var lookup = _fields.GetAlternateLookup<ReadOnlySpan<byte>>();
        bool added = !lookup.ContainsKey(field);
        lookup[field] = value.ToArray();
        return added;
    }

    public bool TryGet(ReadOnlySpan<byte> field, out byte[] value)
        => _fields.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(field, out value!);

    public bool Remove(ReadOnlySpan<byte> field) => _fields.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(field);

    /// <summary>Field/value pairs, in no particular order.</summary>
    public IEnumerable<KeyValuePair<byte[], byte[]>> Entries => _fields;

    public override string EncodingName(EncodingLimits limits)
        => Count <= limits.HashMaxZiplistEntries && _fields.All(e => e.Key.Length <= limits.HashMaxZiplistValue && e.Value.Length <= limits.HashMaxZiplistValue) ? "ziplist" : "hashtable";

    public override RedisObject Clone()
    {
        var copy = new HashObject();
        foreach (var (field, value) in _fields)
            copy.Set(field, value);
        return copy;
    }
}
