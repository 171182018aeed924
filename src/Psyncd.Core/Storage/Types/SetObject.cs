using Psyncd.Text;

namespace Psyncd.Storage.Types;

/// <summary>
/// A set value. Contract used by commands and by the RDB reader/writer: Add, Remove, Contains, Count,
/// and Members. Behind it, a <see cref="MemberTable{T, TKey}"/> of handles into a <see cref="ByteArena"/>
/// that holds the member bytes (no object per member), which gives commands a uniformly random member
/// (<see cref="RandomIndex"/>, <see cref="MemberAt"/>) and a resize-safe scan cursor (<see cref="ScanStep"/>).
/// </summary>
/// <remarks>
/// A member span handed out stays readable after the set changes, even after its member was removed: the
/// arena only appends, and a rebuild copies into new slabs. It may then show a member no longer in the set,
/// so callers read it before or right after the change that they make.
/// </remarks>
public sealed class SetObject : RedisObject
{
    [ThreadStatic]
    private static List<long>? t_scanHandles;

    private ByteArena _arena;
    private readonly MemberTable<long, ArenaKey> _members;

    public SetObject()
    {
        _members = new MemberTable<long, ArenaKey>(new ArenaKey(this));
    }

    public override ValueKind Kind => ValueKind.Set;

    public override long Count => _members.Count;

    /// <summary>Adds a member; true when it was not there.</summary>
    public bool Add(ReadOnlySpan<byte> member)
    {
        int hash = ByteArrayComparer.Hash(member);
        if (_members.Find(member, hash) >= 0)
            return false;
        _members.AddNew(_arena.Add(member), hash);
        return true;
    }

    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (!_members.Remove(member, out long handle))
            return false;
        Release(handle);
        return true;
    }

    public bool Contains(ReadOnlySpan<byte> member) => _members.Find(member) >= 0;

    /// <summary>Members, in no particular order (<c>foreach</c> gives spans). The set must not change during the enumeration.</summary>
    public MemberEnumerator Members => new(this);

    /// <summary>Copies of the members, for callers that keep them past a change of the set.</summary>
    public IEnumerable<byte[]> MemberCopies()
    {
        for (int i = 0; i < _members.Count; i++)
            yield return MemberAt(i).ToArray();
    }

    /// <summary>The member at position <paramref name="index"/> (0 ≤ index &lt; Count) of the set's internal order.</summary>
    public ReadOnlySpan<byte> MemberAt(int index) => _arena.Get(_members.ItemAt(index));

    /// <summary>A uniformly random position for <see cref="MemberAt"/> or <see cref="RemoveAt"/>.</summary>
    public int RandomIndex() => Random.Shared.Next(_members.Count);

    /// <summary>
    /// Removes the member at <paramref name="index"/> (the last member moves into its place) and returns its
    /// bytes, readable until the caller's next change of this set.
    /// </summary>
    public ReadOnlySpan<byte> RemoveAt(int index)
    {
        long handle = _members.RemoveAt(index);
        var member = _arena.Get(handle);
        Release(handle);
        return member;
    }

    /// <summary>One SSCAN step: adds a bucket's members to <paramref name="found"/> and returns the next cursor (0: done).</summary>
    public ulong ScanStep(ulong cursor, List<byte[]> found)
    {
        var handles = t_scanHandles ??= new List<long>();
        handles.Clear();
        cursor = _members.ScanStep(cursor, handles.Add);
        foreach (long handle in handles)
            found.Add(_arena.Get(handle).ToArray());
        return cursor;
    }

    public override string EncodingName(EncodingLimits limits)
    {
        if (Count > limits.SetMaxIntsetEntries)
            return "hashtable";
        for (int i = 0; i < _members.Count; i++)
        {
            if (!Numbers.TryParseInt64(MemberAt(i), out _))
                return "hashtable";
        }
        return "intset";
    }

    public override RedisObject Clone()
    {
        var copy = new SetObject();
        for (int i = 0; i < _members.Count; i++)
            copy.Add(MemberAt(i));
        return copy;
    }

    /// <summary>Frees a removed member's bytes, and rebuilds the arena once holes outweigh the live bytes.</summary>
    private void Release(long handle)
    {
        _arena.Free(handle);
        if (!_arena.NeedsCompaction)
            return;
        var fresh = _arena.Compacted();
        for (int i = 0; i < _members.Count; i++)
            _members.SetItemAt(i, fresh.Add(_arena.Get(_members.ItemAt(i))));
        _arena = fresh;
    }

    /// <summary>Bytes the member arena holds (tests).</summary>
    internal long ArenaBytes => _arena.AllocatedBytes();

    /// <summary>Reads members through the set, whose arena is replaced by a rebuild.</summary>
    internal readonly struct ArenaKey(SetObject set) : IMemberKey<long>
    {
        public ReadOnlySpan<byte> KeyOf(long item) => set._arena.Get(item);
    }

    /// <summary>Enumerates the members as spans (<see cref="Members"/>).</summary>
    public ref struct MemberEnumerator
    {
        private readonly SetObject _set;
        private int _index;

        internal MemberEnumerator(SetObject set)
        {
            _set = set;
            _index = -1;
        }

        public readonly MemberEnumerator GetEnumerator() => this;

        public bool MoveNext() => ++_index < _set._members.Count;

        public readonly ReadOnlySpan<byte> Current => _set.MemberAt(_index);
    }
}
