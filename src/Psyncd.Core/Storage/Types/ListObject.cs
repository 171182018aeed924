using System.Buffers.Binary;
using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Psyncd.Storage.Types;

/// <summary>
/// A list value: a doubly linked chain of nodes, each a byte array of packed elements (Redis's quicklist
/// idea). Push and pop at both ends are O(1) and allocate only when a node must grow; walking is
/// sequential over contiguous memory. Contract used by commands and by the RDB reader/writer:
/// PushLeft/PushRight, PopLeft/PopRight, Count, and Items (head to tail).
/// </summary>
/// <remarks>
/// An element is packed as <c>len bytes len</c>: the length is written before <i>and</i> after the bytes so
/// that a node can be walked in both directions. A length under 128 takes one byte; a longer one takes
/// five (a 0x80 marker and a little-endian int32, mirrored at the end: int32 then marker). A node's
/// elements occupy <c>[Start, End)</c> of its buffer, with free room on either side so that it can grow
/// toward whichever end is pushed.
/// </remarks>
public sealed class ListObject : RedisObject
{
    /// <summary>A node is not grown past this many bytes (an element larger than it gets a node of its own).</summary>
    internal const int MaxNodeBytes = 8192;

    private const int MinNodeBytes = 32;

    private Node? _head;
    private Node? _tail;
    private long _count;

    internal sealed class Node
    {
        public byte[] Buffer;
        public int Start;
        public int End;
        public int Count;
        public Node? Prev;
        public Node? Next;

        public Node(int capacity, bool fillFromEnd)
        {
            Buffer = new byte[capacity];
            Start = End = fillFromEnd ? capacity : 0;
        }

        public int Size => End - Start;
    }

    public override ValueKind Kind => ValueKind.List;

    public override long Count => _count;

    // ------------------------------------------------------------------
    // Element encoding
    // ------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int LengthSize(int length) => length < 128 ? 1 : 5;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int EncodedSize(int length) => length < 128 ? length + 2 : length + 10;

    private static void Encode(Span<byte> destination, ReadOnlySpan<byte> value)
    {
        int n = value.Length;
        if (n < 128)
        {
            destination[0] = (byte)n;
            value.CopyTo(destination[1..]);
            destination[n + 1] = (byte)n;
            return;
        }
        destination[0] = 0x80;
        BinaryPrimitives.WriteInt32LittleEndian(destination[1..], n);
        value.CopyTo(destination[5..]);
        BinaryPrimitives.WriteInt32LittleEndian(destination[(5 + n)..], n);
        destination[9 + n] = 0x80;
    }

    /// <summary>Decodes the element starting at <paramref name="position"/>; returns its length, its bytes at <paramref name="data"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadForward(byte[] buffer, int position, out int data)
    {
        byte b = buffer[position];
        if (b < 128)
        {
            data = position + 1;
            return b;
        }
        data = position + 5;
        return BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(position + 1));
    }

    /// <summary>Decodes the element ending at <paramref name="end"/> (exclusive); returns its length, its bytes at <paramref name="data"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadBackward(byte[] buffer, int end, out int data)
    {
        byte b = buffer[end - 1];
        if (b < 128)
        {
            data = end - 1 - b;
            return b;
        }
        int n = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(end - 5));
        data = end - 5 - n;
        return n;
    }

    // ------------------------------------------------------------------
    // Ends
    // ------------------------------------------------------------------

    public void PushLeft(ReadOnlySpan<byte> value)
    {
        int need = EncodedSize(value.Length);
        var node = _head;
        if (node is null || (node.Size + need > MaxNodeBytes && node.Count > 0))
        {
            node = new Node(InitialCapacity(need), fillFromEnd: true);
            LinkFirst(node);
        }
        else if (node.Start < need)
        {
            Regrow(node, need, towardStart: true);
        }
        node.Start -= need;
        Encode(node.Buffer.AsSpan(node.Start, need), value);
        node.Count++;
        _count++;
    }

    public void PushRight(ReadOnlySpan<byte> value)
    {
        int need = EncodedSize(value.Length);
        var node = _tail;
        if (node is null || (node.Size + need > MaxNodeBytes && node.Count > 0))
        {
            node = new Node(InitialCapacity(need), fillFromEnd: false);
            LinkLast(node);
        }
        else if (node.Buffer.Length - node.End < need)
        {
            Regrow(node, need, towardStart: false);
        }
        Encode(node.Buffer.AsSpan(node.End, need), value);
        node.End += need;
        node.Count++;
        _count++;
    }

    /// <summary>Removes the head element and returns a copy of it; null when empty.</summary>
    public byte[]? PopLeft() => _count == 0 ? null : PopLeftSpan().ToArray();

    /// <summary>Removes the tail element and returns a copy of it; null when empty.</summary>
    public byte[]? PopRight() => _count == 0 ? null : PopRightSpan().ToArray();

    /// <summary>
    /// Removes the head element (the list must not be empty) and returns its bytes, which stay readable
    /// until the list is next changed.
    /// </summary>
    public ReadOnlySpan<byte> PopLeftSpan()
    {
        Debug.Assert(_count > 0);
        var node = _head!;
        int n = ReadForward(node.Buffer, node.Start, out int data);
        node.Start = data + n + LengthSize(n);
        node.Count--;
        _count--;
        if (node.Count == 0)
            Unlink(node);
        return node.Buffer.AsSpan(data, n);
    }

    /// <summary>Removes the tail element (the list must not be empty); see <see cref="PopLeftSpan"/>.</summary>
    public ReadOnlySpan<byte> PopRightSpan()
    {
        Debug.Assert(_count > 0);
        var node = _tail!;
        int n = ReadBackward(node.Buffer, node.End, out int data);
        node.End = data - LengthSize(n);
        node.Count--;
        _count--;
        if (node.Count == 0)
            Unlink(node);
        return node.Buffer.AsSpan(data, n);
    }

    /// <summary>Removes <paramref name="n"/> elements from the head (LTRIM), whole nodes at a time where possible.</summary>
    public void RemoveLeft(long n)
    {
        while (n > 0 && _head is not null)
        {
            var node = _head;
            if (node.Count <= n)
            {
                n -= node.Count;
                _count -= node.Count;
                Unlink(node);
                continue;
            }
            for (; n > 0; n--)
            {
                int len = ReadForward(node.Buffer, node.Start, out int data);
                node.Start = data + len + LengthSize(len);
                node.Count--;
                _count--;
            }
        }
    }

    /// <summary>Removes <paramref name="n"/> elements from the tail.</summary>
    public void RemoveRight(long n)
    {
        while (n > 0 && _tail is not null)
        {
            var node = _tail;
            if (node.Count <= n)
            {
                n -= node.Count;
                _count -= node.Count;
                Unlink(node);
                continue;
            }
            for (; n > 0; n--)
            {
                int len = ReadBackward(node.Buffer, node.End, out int data);
                node.End = data - LengthSize(len);
                node.Count--;
                _count--;
            }
        }
    }

    // ------------------------------------------------------------------
    // Walking
    // ------------------------------------------------------------------

    /// <summary>
    /// A position in the list that walks toward the tail (or the head): what LRANGE, LINDEX, LREM use.
    /// Invalid once the list changes.
    /// </summary>
    public struct Cursor
    {
        private Node? _node;
        private int _position;

        internal Cursor(Node? node, int position)
        {
            _node = node;
            _position = position;
        }

        /// <summary>The next element toward the tail; false past the tail.</summary>
        public bool Next(out ReadOnlySpan<byte> value)
        {
            var node = _node;
            while (node is not null && _position >= node.End)
            {
                node = node.Next;
                _node = node;
                if (node is not null)
                    _position = node.Start;
            }
            if (node is null)
            {
                value = default;
                return false;
            }
            int n = ReadForward(node.Buffer, _position, out int data);
            value = node.Buffer.AsSpan(data, n);
            _position = data + n + LengthSize(n);
            return true;
        }

        /// <summary>The next element toward the head (for a cursor made by <see cref="FromTail"/>); false past the head.</summary>
        public bool Previous(out ReadOnlySpan<byte> value)
        {
            var node = _node;
            while (node is not null && _position <= node.Start)
            {
                node = node.Prev;
                _node = node;
                if (node is not null)
                    _position = node.End;
            }
            if (node is null)
            {
                value = default;
                return false;
            }
            int n = ReadBackward(node.Buffer, _position, out int data);
            value = node.Buffer.AsSpan(data, n);
            _position = data - LengthSize(n);
            return true;
        }
    }

    /// <summary>A cursor whose <see cref="Cursor.Next"/> yields element <paramref name="index"/> (0-based from the head) first.</summary>
    public Cursor At(long index)
    {
        Debug.Assert(index >= 0 && index < _count);
        var node = FindNode(index, out long within);
        int position = node.Start;
        for (long i = 0; i < within; i++)
        {
            int n = ReadForward(node.Buffer, position, out int data);
            position = data + n + LengthSize(n);
        }
        return new Cursor(node, position);
    }

    /// <summary>A cursor whose <see cref="Cursor.Previous"/> yields the tail first.</summary>
    public Cursor FromTail() => new(_tail, _tail?.End ?? 0);

    /// <summary>The element at <paramref name="index"/> (0 is the head); valid until the list changes.</summary>
    public ReadOnlySpan<byte> Get(long index)
    {
        var cursor = At(index);
        cursor.Next(out var value);
        return value;
    }

    /// <summary>The element at <paramref name="index"/> (0 is the head), copied.</summary>
    public byte[] this[long index] => Get(index).ToArray();

    /// <summary>Elements from head to tail, each copied (for RDB and tests; commands walk a <see cref="Cursor"/>).</summary>
    public IEnumerable<byte[]> Items
    {
        get
        {
            for (var node = _head; node is not null; node = node.Next)
            {
                int position = node.Start;
                while (position < node.End)
                {
                    int n = ReadForward(node.Buffer, position, out int data);
                    yield return node.Buffer.AsSpan(data, n).ToArray();
                    position = data + n + LengthSize(n);
                }
            }
        }
    }

    /// <summary>The node holding element <paramref name="index"/>, and the element's index inside it.</summary>
    private Node FindNode(long index, out long within)
    {
        if (index < _count / 2)
        {
            var node = _head!;
            while (index >= node.Count)
            {
                index -= node.Count;
                node = node.Next!;
            }
            within = index;
            return node;
        }
        long fromTail = _count - 1 - index;
        var back = _tail!;
        while (fromTail >= back.Count)
        {
            fromTail -= back.Count;
            back = back.Prev!;
        }
        within = back.Count - 1 - fromTail;
        return back;
    }

    // ------------------------------------------------------------------
    // Changes in the middle (LSET, LINSERT, LREM)
    // ------------------------------------------------------------------

    /// <summary>Replaces element <paramref name="index"/> (LSET).</summary>
    public void Set(long index, ReadOnlySpan<byte> value)
    {
        var node = FindNode(index, out long within);
        int position = SkipInNode(node, within);
        int n = ReadForward(node.Buffer, position, out _);
        Splice(node, position, EncodedSize(n), value, 0);
    }

    /// <summary>
    /// Inserts <paramref name="value"/> before or after the first element equal to <paramref name="pivot"/>
    /// (LINSERT); false when there is no such element.
    /// </summary>
    public bool Insert(ReadOnlySpan<byte> pivot, ReadOnlySpan<byte> value, bool after)
    {
        for (var node = _head; node is not null; node = node.Next)
        {
            int position = node.Start;
            while (position < node.End)
            {
                int n = ReadForward(node.Buffer, position, out int data);
                int next = data + n + LengthSize(n);
                if (node.Buffer.AsSpan(data, n).SequenceEqual(pivot))
                {
                    Splice(node, after ? next : position, 0, value, 1);
                    _count++;
                    return true;
                }
                position = next;
            }
        }
        return false;
    }

    /// <summary>
    /// Removes elements equal to <paramref name="value"/> (LREM): the first <paramref name="count"/> from
    /// the head when positive, from the tail when negative, all when 0. Returns how many were removed.
    /// </summary>
    public long Remove(ReadOnlySpan<byte> value, long count)
    {
        // -2^63 has no positive counterpart: Redis negates it into itself, a limit never reached, so every
        // match goes (from the tail).
        long limit = count is 0 or long.MinValue ? long.MaxValue : Math.Abs(count);
        long removed = 0;
        bool fromTail = count < 0;
        var node = fromTail ? _tail : _head;
        while (node is not null && removed < limit)
        {
            var following = fromTail ? node.Prev : node.Next;
            removed += RemoveInNode(node, value, limit - removed, fromTail);
            if (node.Count == 0)
                Unlink(node);
            node = following;
        }
        _count -= removed;
        return removed;
    }

    /// <summary>Removes up to <paramref name="limit"/> elements equal to <paramref name="value"/> from one node, rebuilding it only when one matches.</summary>
    private static long RemoveInNode(Node node, ReadOnlySpan<byte> value, long limit, bool fromTail)
    {
        // Mark matching element offsets first (walking in the asked direction), then rebuild once.
        var matches = new List<int>();
        int found = 0;
        if (!fromTail)
        {
            int position = node.Start;
            while (position < node.End && found < limit)
            {
                int n = ReadForward(node.Buffer, position, out int data);
                if (n == value.Length && node.Buffer.AsSpan(data, n).SequenceEqual(value))
                {
                    matches.Add(position);
                    found++;
                }
                position = data + n + LengthSize(n);
            }
        }
        else
        {
            int position = node.End;
            while (position > node.Start && found < limit)
            {
                int n = ReadBackward(node.Buffer, position, out int data);
                int start = data - LengthSize(n);
                if (n == value.Length && node.Buffer.AsSpan(data, n).SequenceEqual(value))
                {
                    matches.Add(start);
                    found++;
                }
                position = start;
            }
            matches.Reverse();
        }
        if (found == 0)
            return 0;
        var buffer = node.Buffer;
        var rebuilt = new byte[Math.Max(MinNodeBytes, node.Size)];
        int write = 0;
        int read = node.Start;
        foreach (int match in matches)
        {
            buffer.AsSpan(read, match - read).CopyTo(rebuilt.AsSpan(write));
            write += match - read;
            int n = ReadForward(buffer, match, out int data);
            read = data + n + LengthSize(n);
        }
        buffer.AsSpan(read, node.End - read).CopyTo(rebuilt.AsSpan(write));
        write += node.End - read;
        node.Buffer = rebuilt;
        node.Start = 0;
        node.End = write;
        node.Count -= found;
        return found;
    }

    private static int SkipInNode(Node node, long within)
    {
        int position = node.Start;
        for (long i = 0; i < within; i++)
        {
            int n = ReadForward(node.Buffer, position, out int data);
            position = data + n + LengthSize(n);
        }
        return position;
    }

    /// <summary>Replaces <paramref name="removeBytes"/> at <paramref name="position"/> of a node with <paramref name="value"/> encoded; splits a node grown too big.</summary>
    private void Splice(Node node, int position, int removeBytes, ReadOnlySpan<byte> value, int countDelta)
    {
        int insert = EncodedSize(value.Length);
        int newSize = node.Size - removeBytes + insert;
        var old = node.Buffer;
        var buffer = new byte[Math.Max(MinNodeBytes, newSize)];
        int before = position - node.Start;
        old.AsSpan(node.Start, before).CopyTo(buffer);
        Encode(buffer.AsSpan(before, insert), value);
        old.AsSpan(position + removeBytes, node.End - position - removeBytes).CopyTo(buffer.AsSpan(before + insert));
        node.Buffer = buffer;
        node.Start = 0;
        node.End = newSize;
        node.Count += countDelta;
        if (newSize > MaxNodeBytes && node.Count > 1)
            Split(node);
    }

    /// <summary>Moves the second half of a node's elements to a new node after it.</summary>
    private void Split(Node node)
    {
        int position = node.Start;
        int kept = 0;
        int half = node.Size / 2;
        while (position - node.Start < half && kept < node.Count - 1)
        {
            int n = ReadForward(node.Buffer, position, out int data);
            position = data + n + LengthSize(n);
            kept++;
        }
        if (kept == 0)
        {
            int n = ReadForward(node.Buffer, position, out int data);
            position = data + n + LengthSize(n);
            kept = 1;
        }
        int moved = node.End - position;
        var second = new Node(Math.Max(MinNodeBytes, moved), fillFromEnd: false);
        node.Buffer.AsSpan(position, moved).CopyTo(second.Buffer);
        second.End = moved;
        second.Count = node.Count - kept;
        var first = new byte[Math.Max(MinNodeBytes, position - node.Start)];
        node.Buffer.AsSpan(node.Start, position - node.Start).CopyTo(first);
        node.End = position - node.Start;
        node.Start = 0;
        node.Buffer = first;
        node.Count = kept;
        second.Prev = node;
        second.Next = node.Next;
        if (node.Next is not null)
            node.Next.Prev = second;
        else
            _tail = second;
        node.Next = second;
    }

    // ------------------------------------------------------------------
    // Nodes
    // ------------------------------------------------------------------

    private static int InitialCapacity(int need)
    {
        if (need >= MaxNodeBytes)
            return need;
        return Math.Max(MinNodeBytes, need);
    }

    /// <summary>Makes room for <paramref name="need"/> more bytes at one end of a node: recentres, or doubles (up to the node limit).</summary>
    private static void Regrow(Node node, int need, bool towardStart)
    {
        int size = node.Size;
        int capacity = node.Buffer.Length;
        if (size + need > capacity || size * 2 > capacity)
        {
            capacity = Math.Max(capacity * 2, size + need);
            if (capacity > MaxNodeBytes)
                capacity = Math.Max(MaxNodeBytes, size + need);
        }
        var buffer = capacity == node.Buffer.Length ? node.Buffer : new byte[capacity];
        int start = towardStart ? capacity - size : 0;
        node.Buffer.AsSpan(node.Start, size).CopyTo(buffer.AsSpan(start));
        node.Buffer = buffer;
        node.Start = start;
        node.End = start + size;
    }

    private void LinkFirst(Node node)
    {
        node.Next = _head;
        if (_head is not null)
            _head.Prev = node;
        else
            _tail = node;
        _head = node;
    }

    private void LinkLast(Node node)
    {
        node.Prev = _tail;
        if (_tail is not null)
            _tail.Next = node;
        else
            _head = node;
        _tail = node;
    }

    private void Unlink(Node node)
    {
        if (node.Prev is not null)
            node.Prev.Next = node.Next;
        else
            _head = node.Next;
        if (node.Next is not null)
            node.Next.Prev = node.Prev;
        else
            _tail = node.Prev;
        node.Prev = node.Next = null;
    }

    // ------------------------------------------------------------------
    // RedisObject
    // ------------------------------------------------------------------

    public override string EncodingName(EncodingLimits limits)
    {
        if (_count > limits.ListMaxZiplistEntries)
            return "linkedlist";
        var cursor = new Cursor(_head, _head?.Start ?? 0);
        while (cursor.Next(out var value))
        {
            if (value.Length > limits.ListMaxZiplistValue)
                return "linkedlist";
        }
        return "ziplist";
    }

    public override RedisObject Clone()
    {
        var copy = new ListObject();
        for (var node = _head; node is not null; node = node.Next)
        {
            var twin = new Node(Math.Max(MinNodeBytes, node.Size), fillFromEnd: false);
            node.Buffer.AsSpan(node.Start, node.Size).CopyTo(twin.Buffer);
            twin.End = node.Size;
            twin.Count = node.Count;
            copy.LinkLast(twin);
        }
        copy._count = _count;
        return copy;
    }
}
