namespace Psyncd.Storage.Types;

/// <summary>
/// A sorted set value. Contract used by commands and by the RDB reader/writer: Add (insert or update the
/// score), Remove, TryGetScore, Count, and Entries (ascending by score, then member bytes).
/// </summary>
/// <remarks>
/// A skiplist with spans (each link knows how many nodes it jumps, so rank and select are O(log N)) plus a
/// <see cref="MemberTable{T, TKey}"/> from member to node. To keep nodes small, level 0's link is a plain
/// field (its span is implied: 1 when there is a next node, else 0) and only the levels above it live in
/// <see cref="TallNode"/>. Three nodes in four have no level above 0: they are plain <see cref="Node"/>s
/// (48 bytes). A taller node keeps level 1's link in fields of its own (72 bytes for a node of level 2, three
/// in four of the others) and only the levels above that in an array.
/// </remarks>
public sealed class SortedSetObject : RedisObject
{
    private const int MaxLevel = 32;

    /// <summary>A node of level 1 (only level 0's link); a <see cref="TallNode"/> when it has more levels.</summary>
    internal class Node
    {
        public Node(long member, double score)
        {
            Handle = member;
            Score = score;
        }

        /// <summary>The member's bytes in the set's arena (<see cref="MemberOf"/>); changes when the arena is rebuilt.</summary>
        public long Handle;
        public double Score;
        public Node? Backward;

        /// <summary>Level 0's forward link.</summary>
        public Node? Next;

        public int Level => this is TallNode tall ? 2 + (tall.Higher?.Length ?? 0) : 1;
    }

    /// <summary>A node of level 2 or more (and the header): the links of levels 1 and up.</summary>
    internal sealed class TallNode : Node
    {
        public TallNode(long member, double score, int level)
            : base(member, score)
        {
            if (level > 2)
                Higher = new Link[level - 2];
        }

        /// <summary>Level 1's link.</summary>
        public Link Second;

        /// <summary>Links of levels 2 and up (null for a node of level 2).</summary>
        public readonly Link[]? Higher;
    }

    internal struct Link
    {
        public Node? Forward;

        /// <summary>Number of level-0 steps this link jumps (to the end of the list when Forward is null).</summary>
        public int Span;
    }

    /// <summary>Reads members through the set, whose arena is replaced by a rebuild.</summary>
    private readonly struct NodeKey(SortedSetObject zset) : IMemberKey<Node>
    {
        public ReadOnlySpan<byte> KeyOf(Node item) => zset._arena.Get(item.Handle);
    }

    /// <summary>Holds the members' bytes: a node keeps a handle rather than an array of its own (24 bytes of header saved a member).</summary>
    private ByteArena _arena;
    private readonly TallNode _header = new(0, 0, MaxLevel);
    private readonly MemberTable<Node, NodeKey> _map;
    private Node? _tail;
    private int _level = 1;

    /// <summary>Nodes linked in the skiplist (the member table may briefly hold one more during a move).</summary>
    private int _length;

    // Per thread, not per server: sorted sets are written by commands in the loop but also by the RDB loader
    // (a replica's payload, DEBUG RELOAD, unit tests) on whatever thread runs it, and this type knows no loop.
    [ThreadStatic]
    private static Node[]? t_update;

    public override ValueKind Kind => ValueKind.SortedSet;

    /// <summary>
    /// True while redis-server would hold this sorted set in its compact encoding (listpack): commands
    /// clear it when the set outgrows zset-max-ziplist-entries/value, and it never comes back (as in Redis
    /// 7.0). It decides OBJECT ENCODING, whether ZSCAN answers in one step, and whether a score of -0
    /// survives (the compact encoding turns it into 0).
    /// </summary>
    internal bool Compact { get; set; } = true;

    public SortedSetObject()
    {
        _map = new MemberTable<Node, NodeKey>(new NodeKey(this));
    }

    public override long Count => _map.Count;

    /// <summary>
    /// The member of <paramref name="node"/>, readable until the set's next change (and after its removal until
    /// then: the arena only appends, and a rebuild copies into new slabs).
    /// </summary>
    internal ReadOnlySpan<byte> MemberOf(Node node) => _arena.Get(node.Handle);

    /// <summary>Adds a member or changes its score; true when the member is new.</summary>
    public bool Add(ReadOnlySpan<byte> member, double score)
    {
        score = NormalizeZero(score);
        int hash = ByteArrayComparer.Hash(member);
        int index = _map.Find(member, hash);
        if (index >= 0)
        {
            UpdateScore(_map.ItemAt(index), score);
            return false;
        }
        int level = RandomLevel();
        long handle = _arena.Add(member);
        var node = level > 1 ? new TallNode(handle, score, level) : new Node(handle, score);
        Insert(node);
        _map.AddNew(node, hash);
        return true;
    }

    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (!_map.Remove(member, out var node))
            return false;
        Unlink(node);
        Release(node);
        return true;
    }

    public bool TryGetScore(ReadOnlySpan<byte> member, out double score)
    {
        int index = _map.Find(member);
        if (index < 0)
        {
            score = 0;
            return false;
        }
        score = _map.ItemAt(index).Score;
        return true;
    }

    /// <summary>Members with their scores, ascending by score, then by member bytes.</summary>
    public IEnumerable<(byte[] Member, double Score)> Entries
    {
        get
        {
            for (var x = _header.Next; x is not null; x = x.Next)
                yield return (MemberOf(x).ToArray(), x.Score);
        }
    }

    public override string EncodingName(EncodingLimits limits)
    {
        if (!Compact || Count > limits.ZsetMaxZiplistEntries)
            return "skiplist";
        for (var x = _header.Next; x is not null; x = x.Next)
        {
            if (MemberOf(x).Length > limits.ZsetMaxZiplistValue)
                return "skiplist";
        }
        return "ziplist";
    }

    public override RedisObject Clone()
    {
        var copy = new SortedSetObject { Compact = Compact };
        for (var x = _header.Next; x is not null; x = x.Next)
            copy.Add(MemberOf(x), x.Score);
        return copy;
    }

    // ------------------------------------------------------------------
    // What the commands use
    // ------------------------------------------------------------------

    internal Node? Find(ReadOnlySpan<byte> member)
    {
        int index = _map.Find(member);
        return index < 0 ? null : _map.ItemAt(index);
    }

    /// <summary>The lowest element.</summary>
    internal Node? First => _header.Next;

    /// <summary>Turns scores of -0 into 0 (when the set becomes compact); the order does not change.</summary>
    internal void NormalizeZeros()
    {
        for (var x = _header.Next; x is not null; x = x.Next)
        {
            if (x.Score == 0)
                x.Score = 0;
        }
    }

    /// <summary>The highest element.</summary>
    internal Node? Last => _tail;

    /// <summary>Changes a member's score, moving its node only if the order requires it.</summary>
    internal void UpdateScore(Node node, double score)
    {
        score = NormalizeZero(score);
        if (node.Score == score)
            return;
        if ((node.Backward is null || node.Backward.Score < score) && (node.Next is null || node.Next.Score > score))
        {
            node.Score = score;
            return;
        }
        Unlink(node);
        node.Score = score;
        Insert(node);
    }

    /// <summary>Removes the node (found by <see cref="Find"/> or a range walk) from the set.</summary>
    internal void Delete(Node node)
    {
        _map.Remove(MemberOf(node), out _);
        Unlink(node);
        Release(node);
    }

    /// <summary>Frees a removed node's member bytes, and rebuilds the arena once holes outweigh the live bytes.</summary>
    private void Release(Node node)
    {
        _arena.Free(node.Handle);
        if (!_arena.NeedsCompaction)
            return;
        var fresh = _arena.Compacted();
        for (var x = _header.Next; x is not null; x = x.Next)
            x.Handle = fresh.Add(_arena.Get(x.Handle));
        _arena = fresh;
    }

    /// <summary>0-based rank of <paramref name="node"/> in ascending order.</summary>
    internal long RankOf(Node node)
    {
        long rank = 0;
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            Node? f;
            while ((f = Forward(x, i)) is not null && Precedes(f, node.Score, MemberOf(node), orEqual: true))
            {
                rank += Span(x, i);
                x = f;
            }
            if (x == node)
                return rank - 1;
        }
        return rank - 1;
    }

    /// <summary>The node of 0-based rank <paramref name="rank"/>, or null when out of range.</summary>
    internal Node? ByRank(long rank)
    {
        if (rank < 0 || rank >= Count)
            return null;
        long target = rank + 1;
        long traversed = 0;
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            Node? f;
            while ((f = Forward(x, i)) is not null && traversed + Span(x, i) <= target)
            {
                traversed += Span(x, i);
                x = f;
            }
            if (traversed == target)
                return x;
        }
        return null;
    }

    /// <summary>The lowest node within the score range, or null.</summary>
    internal Node? FirstInRange(in ScoreRange range)
    {
        if (!HasAnyInRange(range))
            return null;
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            Node? f;
            while ((f = Forward(x, i)) is not null && !range.GteMin(f.Score))
                x = f;
        }
        var first = x.Next;
        return first is not null && range.LteMax(first.Score) ? first : null;
    }

    /// <summary>The highest node within the score range, or null.</summary>
    internal Node? LastInRange(in ScoreRange range)
    {
        if (!HasAnyInRange(range))
            return null;
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            Node? f;
            while ((f = Forward(x, i)) is not null && range.LteMax(f.Score))
                x = f;
        }
        return x != _header && range.GteMin(x.Score) ? x : null;
    }

    private bool HasAnyInRange(in ScoreRange range)
    {
        if (range.IsEmpty || _tail is null)
            return false;
        return range.GteMin(_tail.Score) && range.LteMax(_header.Next!.Score);
    }

    /// <summary>The lowest node within the lexicographic range, or null.</summary>
    internal Node? FirstInRange(in LexRange range)
    {
        if (!HasAnyInRange(range))
            return null;
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            Node? f;
            while ((f = Forward(x, i)) is not null && !range.GteMin(MemberOf(f)))
                x = f;
        }
        var first = x.Next;
        return first is not null && range.LteMax(MemberOf(first)) ? first : null;
    }

    /// <summary>The highest node within the lexicographic range, or null.</summary>
    internal Node? LastInRange(in LexRange range)
    {
        if (!HasAnyInRange(range))
            return null;
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            Node? f;
            while ((f = Forward(x, i)) is not null && range.LteMax(MemberOf(f)))
                x = f;
        }
        return x != _header && range.GteMin(MemberOf(x)) ? x : null;
    }

    private bool HasAnyInRange(in LexRange range)
    {
        if (range.IsEmpty || _tail is null)
            return false;
        return range.GteMin(MemberOf(_tail)) && range.LteMax(MemberOf(_header.Next!));
    }

    /// <summary>One ZSCAN step: visits a bucket's nodes and returns the next cursor (0: done).</summary>
    internal ulong ScanStep(ulong cursor, Action<Node> visit) => _map.ScanStep(cursor, visit);

    /// <summary>
    /// In the compact encoding -0 is kept as 0, as redis-server's listpack does (a client never sees "-0"
    /// from a small sorted set, but can from a large one).
    /// </summary>
    private double NormalizeZero(double score) => score == 0 && Compact ? 0 : score;

    // ------------------------------------------------------------------
    // The skiplist
    // ------------------------------------------------------------------

    private static Node? Forward(Node x, int level) => level == 0 ? x.Next : LinkAt(x, level).Forward;

    private static int Span(Node x, int level) => level == 0 ? (x.Next is null ? 0 : 1) : LinkAt(x, level).Span;

    /// <summary>The link of <paramref name="level"/> (1 or more) of <paramref name="x"/>.</summary>
    /// <remarks>Such a link is only ever asked of a node that has that level, hence a TallNode.</remarks>
    private static ref Link LinkAt(Node x, int level)
    {
        var tall = (TallNode)x;
        if (level == 1)
            return ref tall.Second;
        return ref tall.Higher![level - 2];
    }

    /// <summary>True when <paramref name="x"/> sorts before (score, member), or equal to it when <paramref name="orEqual"/>.</summary>
    private bool Precedes(Node x, double score, ReadOnlySpan<byte> member, bool orEqual)
    {
        if (x.Score != score)
            return x.Score < score;
        int c = MemberOf(x).SequenceCompareTo(member);
        return orEqual ? c <= 0 : c < 0;
    }

    private static int RandomLevel()
    {
        // Each level is kept with probability 1/4, two random bits at a time.
        int level = 1;
        uint bits = (uint)Random.Shared.Next();
        while ((bits & 3) == 0 && level < MaxLevel)
        {
            level++;
            bits >>= 2;
            if (bits == 0)
                bits = (uint)Random.Shared.Next() | 0x8000_0000;
        }
        return level;
    }

    /// <summary>Links <paramref name="node"/> (its level fixed by its type and link array) at its place in the order.</summary>
    private void Insert(Node node)
    {
        Span<int> rank = stackalloc int[MaxLevel];
        var update = t_update ??= new Node[MaxLevel];
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            rank[i] = i == _level - 1 ? 0 : rank[i + 1];
            Node? f;
            while ((f = Forward(x, i)) is not null && Precedes(f, node.Score, MemberOf(node), orEqual: false))
            {
                rank[i] += Span(x, i);
                x = f;
            }
            update[i] = x;
        }
        int level = node.Level;
        if (level > _level)
        {
            for (int i = _level; i < level; i++)
            {
                rank[i] = 0;
                update[i] = _header;
                LinkAt(_header, i).Span = _length;
            }
            _level = level;
        }
        node.Next = update[0].Next;
        update[0].Next = node;
        for (int i = 1; i < level; i++)
        {
            ref var prev = ref LinkAt(update[i], i);
            ref var mine = ref LinkAt(node, i);
            mine.Forward = prev.Forward;
            mine.Span = prev.Span - (rank[0] - rank[i]);
            prev.Forward = node;
            prev.Span = rank[0] - rank[i] + 1;
        }
        for (int i = level; i < _level; i++)
            LinkAt(update[i], i).Span++;
        node.Backward = update[0] == _header ? null : update[0];
        if (node.Next is not null)
            node.Next.Backward = node;
        else
            _tail = node;
        _length++;
    }

    /// <summary>Unlinks <paramref name="node"/> from the skiplist (the member table is the caller's business).</summary>
    private void Unlink(Node node)
    {
        var update = t_update ??= new Node[MaxLevel];
        Node x = _header;
        for (int i = _level - 1; i >= 0; i--)
        {
            Node? f;
            while ((f = Forward(x, i)) is not null && f != node && Precedes(f, node.Score, MemberOf(node), orEqual: false))
                x = f;
            update[i] = x;
        }
        for (int i = 1; i < _level; i++)
        {
            ref var prev = ref LinkAt(update[i], i);
            if (prev.Forward == node)
            {
                ref var mine = ref LinkAt(node, i);
                prev.Span += mine.Span - 1;
                prev.Forward = mine.Forward;
            }
            else
            {
                prev.Span--;
            }
        }
        update[0].Next = node.Next;
        if (node.Next is not null)
            node.Next.Backward = node.Backward;
        else
            _tail = node.Backward;
        while (_level > 1 && LinkAt(_header, _level - 1).Forward is null)
            _level--;
        _length--;
        node.Next = null;
        node.Backward = null;
        if (node is TallNode tall)
        {
            tall.Second = default;
            if (tall.Higher is not null)
                Array.Clear(tall.Higher);
        }
    }
}

/// <summary>A score interval of ZRANGEBYSCORE and friends; each end inclusive or exclusive.</summary>
internal readonly struct ScoreRange
{
    public ScoreRange(double min, bool minExclusive, double max, bool maxExclusive)
    {
        Min = min;
        MinExclusive = minExclusive;
        Max = max;
        MaxExclusive = maxExclusive;
    }

    public readonly double Min;
    public readonly bool MinExclusive;
    public readonly double Max;
    public readonly bool MaxExclusive;

    public bool IsEmpty => Min > Max || (Min == Max && (MinExclusive || MaxExclusive));

    public bool GteMin(double value) => MinExclusive ? value > Min : value >= Min;

    public bool LteMax(double value) => MaxExclusive ? value < Max : value <= Max;
}

/// <summary>
/// A lexicographic interval of ZRANGEBYLEX and friends: each end is "-" (below everything), "+" (above
/// everything), or a member with "[" (inclusive) or "(" (exclusive).
/// </summary>
internal readonly ref struct LexRange
{
    public LexRange(ReadOnlySpan<byte> min, int minInfinity, bool minExclusive, ReadOnlySpan<byte> max, int maxInfinity, bool maxExclusive)
    {
        Min = min;
        MinInfinity = minInfinity;
        MinExclusive = minExclusive;
        Max = max;
        MaxInfinity = maxInfinity;
        MaxExclusive = maxExclusive;
    }

    public readonly ReadOnlySpan<byte> Min;

    /// <summary>-1 for "-", +1 for "+", 0 for a member.</summary>
    public readonly int MinInfinity;
    public readonly bool MinExclusive;
    public readonly ReadOnlySpan<byte> Max;
    public readonly int MaxInfinity;
    public readonly bool MaxExclusive;

    public bool IsEmpty
    {
        get
        {
            int c = Compare(Min, MinInfinity, Max, MaxInfinity);
            return c > 0 || (c == 0 && (MinExclusive || MaxExclusive));
        }
    }

    public bool GteMin(ReadOnlySpan<byte> value)
    {
        if (MinInfinity != 0)
            return MinInfinity < 0;
        int c = value.SequenceCompareTo(Min);
        return MinExclusive ? c > 0 : c >= 0;
    }

    public bool LteMax(ReadOnlySpan<byte> value)
    {
        if (MaxInfinity != 0)
            return MaxInfinity > 0;
        int c = value.SequenceCompareTo(Max);
        return MaxExclusive ? c < 0 : c <= 0;
    }

    private static int Compare(ReadOnlySpan<byte> a, int aInf, ReadOnlySpan<byte> b, int bInf)
    {
        if (aInf != 0 || bInf != 0)
            return aInf == bInf ? 0 : aInf < bInf ? -1 : 1;
        return a.SequenceCompareTo(b);
    }
}
