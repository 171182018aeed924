namespace Psyncd.Storage;

/// <summary>
/// The keys of one database that have a time to live (Redis's <c>db->expires</c>), for the active expire
/// cycle to sample from and for INFO's <c>expires=</c>. The expiry time itself lives in the key's record.
/// Keys are held in an array (for sampling at random) plus a map from key to position (for removal).
/// </summary>
internal sealed class ExpiryIndex
{
    private readonly Dictionary<byte[], int> _positions = new(ByteArrayComparer.Instance);
    private readonly List<byte[]> _keys = new();

    public int Count => _keys.Count;

    public void Add(ReadOnlySpan<byte> key)
    {
        var lookup = _positions.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (lookup.ContainsKey(key))
            return;
        var owned = key.ToArray();
        _positions.Add(owned, _keys.Count);
        _keys.Add(owned);
    }

    public void Remove(ReadOnlySpan<byte> key)
    {
        var lookup = _positions.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (!lookup.Remove(key, out _, out int position))
            return;
        int last = _keys.Count - 1;
        if (position != last)
        {
            var moved = _keys[last];
            _keys[position] = moved;
            _positions[moved] = position;
        }
        _keys.RemoveAt(last);
    }

    /// <summary>A key chosen at random; the index must not be empty.</summary>
    public byte[] Sample(Random random) => _keys[random.Next(_keys.Count)];

    public void Clear()
    {
        _positions.Clear();
        _keys.Clear();
    }
}
