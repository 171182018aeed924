namespace Psyncd.Storage.Types;

/// <summary>
/// A set value. Contract used by commands and by the RDB reader/writer: Add, Remove, Contains, Count,
/// and Members. The representation behind it may change.
/// </summary>
public sealed class SetObject : RedisObject
{
    private readonly HashSet<byte[]> _members = new(ByteArrayComparer.Instance);

    public override ValueKind Kind => ValueKind.Set;

    public override long Count => _members.Count;

    /// <summary>Adds a member; true when it was not there.</summary>
    public bool Add(ReadOnlySpan<byte> member) => _members.GetAlternateLookup<ReadOnlySpan<byte>>().Add(member);

    public bool Remove(ReadOnlySpan<byte> member) => _members.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(member);

    public bool Contains(ReadOnlySpan<byte> member) => _members.GetAlternateLookup<ReadOnlySpan<byte>>().Contains(member);

    /// <summary>Members, in no particular order.</summary>
    public IEnumerable<byte[]> Members => _members;

    public override string EncodingName(EncodingLimits limits)
        => Count <= limits.SetMaxIntsetEntries && _members.All(m => Commands.Args.TryParseInt64(m, out _)) ? "intset" : "hashtable";

    public override RedisObject Clone()
    {
        var copy = new SetObject();
        foreach (var member in _members)
            copy.Add(member);
        return copy;
    }
}
