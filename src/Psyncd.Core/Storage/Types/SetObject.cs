using Psyncd.Text;

namespace Psyncd.Storage.Types;

/// <summary>
/// A set value. Contract used by commands and by the RDB reader/writer: Add, Remove, Contains, Count,
/// and Members. Behind it, a <see cref="MemberTable{T, TKey}"/> of member byte arrays, which gives
/// commands a uniformly random member (<see cref="RandomIndex"/>, <see cref="MemberAt"/>) and a
/// resize-safe scan cursor (<see cref="ScanStep"/>).
/// </summary>
public sealed class SetObject : RedisObject
{
    private readonly MemberTable<byte[], ArrayKey> _members = new();

    public override ValueKind Kind => ValueKind.Set;

    public override long Count => _members.Count;

    /// <summary>Adds a member; true when it was not there.</summary>
    public bool Add(ReadOnlySpan<byte> member)
    {
        int hash = ByteArrayComparer.Hash(member);
        if (_members.Find(member, hash) >= 0)
            return false;
        _members.AddNew(member.ToArray(), hash);
        return true;
    }

    public bool Remove(ReadOnlySpan<byte> member) => _members.Remove(member) is not null;

    public bool Contains(ReadOnlySpan<byte> member) => _members.Find(member) >= 0;

    /// <summary>Members, in no particular order. The set must not change during the enumeration.</summary>
    public IEnumerable<byte[]> Members
    {
        get
        {
            for (int i = 0; i < _members.Count; i++)
                yield return _members.ItemAt(i);
        }
    }

    /// <summary>The member at position <paramref name="index"/> (0 ≤ index &lt; Count) of the set's internal order.</summary>
    public byte[] MemberAt(int index) => _members.ItemAt(index);

    /// <summary>A uniformly random position for <see cref="MemberAt"/> or <see cref="RemoveAt"/>.</summary>
    public int RandomIndex() => Random.Shared.Next(_members.Count);

    /// <summary>Removes and returns the member at <paramref name="index"/> (the last member moves into its place).</summary>
    public byte[] RemoveAt(int index) => _members.RemoveAt(index);

    /// <summary>One SSCAN step: visits a bucket's members and returns the next cursor (0: done).</summary>
    public ulong ScanStep(ulong cursor, Action<byte[]> visit) => _members.ScanStep(cursor, visit);

    public override string EncodingName(EncodingLimits limits)
    {
        if (Count > limits.SetMaxIntsetEntries)
            return "hashtable";
        for (int i = 0; i < _members.Count; i++)
        {
            if (!Numbers.TryParseInt64(_members.ItemAt(i), out _))
                return "hashtable";
        }
        return "intset";
    }

    public override RedisObject Clone()
    {
        var copy = new SetObject();
        for (int i = 0; i < _members.Count; i++)
            copy.Add(_members.ItemAt(i));
        return copy;
    }

    internal readonly struct ArrayKey : IMemberKey<byte[]>
    {
        public static ReadOnlySpan<byte> KeyOf(byte[] item) => item;
    }
}
