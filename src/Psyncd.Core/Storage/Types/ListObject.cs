namespace Psyncd.Storage.Types;

/// <summary>
/// A list value. Contract used by commands and by the RDB reader/writer: PushLeft/PushRight,
/// PopLeft/PopRight, Count, and Items (head to tail). The representation behind it may change.
/// </summary>
public sealed class ListObject : RedisObject
{
    private byte[][] _items = new byte[8][];
    private int _head;
    private int _count;

    public override ValueKind Kind => ValueKind.List;

    public override long Count => _count;

    public void PushLeft(ReadOnlySpan<byte> value)
    {
        Grow();
        _head = (_head - 1 + _items.Length) % _items.Length;
        _items[_head] = value.ToArray();
        _count++;
    }

    public void PushRight(ReadOnlySpan<byte> value)
    {
        Grow();
        _items[(_head + _count) % _items.Length] = value.ToArray();
        _count++;
    }

    public byte[]? PopLeft()
    {
        if (_count == 0)
            return null;
        var value = _items[_head];
        _items[_head] = null!;
        _head = (_head + 1) % _items.Length;
        _count--;
        return value;
    }

    public byte[]? PopRight()
    {
        if (_count == 0)
            return null;
        int index = (_head + _count - 1) % _items.Length;
        var value = _items[index];
        _items[index] = null!;
        _count--;
        return value;
    }

    /// <summary>The element at <paramref name="index"/> (0 is the head).</summary>
    public byte[] this[long index] => _items[(_head + (int)index) % _items.Length];

    /// <summary>Elements from head to tail.</summary>
    public IEnumerable<byte[]> Items
    {
        get
        {
            for (int i = 0; i < _count; i++)
                yield return _items[(_head + i) % _items.Length];
        }
    }

    public override string EncodingName(EncodingLimits limits)
        => Count <= limits.ListMaxZiplistEntries && Items.All(i => i.Length <= limits.ListMaxZiplistValue) ? "ziplist" : "linkedlist";

    public override RedisObject Clone()
    {
        var copy = new ListObject();
        foreach (var item in Items)
            copy.PushRight(item);
        return copy;
    }

    private void Grow()
    {
        if (_count < _items.Length)
            return;
        var bigger = new byte[_items.Length * 2][];
        for (int i = 0; i < _count; i++)
            bigger[i] = _items[(_head + i) % _items.Length];
        _items = bigger;
        _head = 0;
    }
}
