namespace Psyncd.Storage.Types;

/// <summary>
/// A sorted set value. Contract used by commands and by the RDB reader/writer: Add (insert or update the
/// score), Remove, TryGetScore, Count, and Entries (ascending by score, then member bytes). The
/// representation behind it may change.
/// </summary>
public sealed class SortedSetObject : RedisObject
{
    private readonly Dictionary<byte[], double> _scores = new(ByteArrayComparer.Instance);
    private readonly SortedSet<(double Score, byte[] Member)> _ordered = new(EntryComparer.Instance);

    public override ValueKind Kind => ValueKind.SortedSet;

    public override long Count => _scores.Count;

    /// <summary>Adds a member or changes its score; true when the member is new.</summary>
    public bool Add(ReadOnlySpan<byte> member, double score)
    {
        var lookup = _scores.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.TryGetValue(member, out var actual, out double old))
        {
            if (old == score)
                return false;
            _ordered.Remove((old, actual));
            _ordered.Add((score, actual));
            _scores[actual] = score;
            return false;
        }
        var owned = member.ToArray();
        _scores.Add(owned, score);
        _ordered.Add((score, owned));
        return true;
    }

    public bool Remove(ReadOnlySpan<byte> member)
    {
        if (!_scores.GetAlternateLookup<ReadOnlySpan<byte>>().Remove(member, out var actual, out double score))
            return false;
        _ordered.Remove((score, actual));
        return true;
    }

    public bool TryGetScore(ReadOnlySpan<byte> member, out double score)
        => _scores.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(member, out score);

    /// <summary>Members with their scores, ascending by score, then by member bytes.</summary>
    public IEnumerable<(byte[] Member, double Score)> Entries => _ordered.Select(e => (e.Member, e.Score));

    public override string EncodingName(EncodingLimits limits)
        => Count <= limits.ZsetMaxZiplistEntries && _scores.Keys.All(m => m.Length <= limits.ZsetMaxZiplistValue) ? "ziplist" : "skiplist";

    public override RedisObject Clone()
    {
        var copy = new SortedSetObject();
        foreach (var (member, score) in Entries)
            copy.Add(member, score);
        return copy;
    }

    private sealed class EntryComparer : IComparer<(double Score, byte[] Member)>
    {
        public static readonly EntryComparer Instance = new();

        public int Compare((double Score, byte[] Member) x, (double Score, byte[] Member) y)
        {
            int c = x.Score.CompareTo(y.Score);
            return c != 0 ? c : x.Member.AsSpan().SequenceCompareTo(y.Member);
        }
    }
}
