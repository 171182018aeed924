using System.Diagnostics;

namespace Psyncd.Storage;

/// <summary>
/// The managed objects that records refer to by handle: collections (<see cref="RedisObject"/>) and large
/// strings (<see cref="HeapString"/>). A handle is an index into a slot array; freed slots are reused.
/// Handle 0 is never given out, so a zeroed record can't alias a live object.
/// Touched only inside the command loop.
/// </summary>
internal sealed class ObjectHeap
{
    private object?[] _slots = new object?[1024];
    private int[] _free = new int[256];
    private int _freeCount;
    private int _next = 1;

    /// <summary>Live objects.</summary>
    public int Count { get; private set; }

    public int Add(object value)
    {
        int handle;
        if (_freeCount > 0)
        {
            handle = _free[--_freeCount];
        }
        else
        {
            if (_next == _slots.Length)
                Array.Resize(ref _slots, _slots.Length * 2);
            handle = _next++;
        }
        _slots[handle] = value;
        Count++;
        return handle;
    }

    public object Get(int handle)
    {
        var value = _slots[handle];
        Debug.Assert(value is not null, "handle of a freed object");
        return value!;
    }

    public void Replace(int handle, object value)
    {
        Debug.Assert(_slots[handle] is not null);
        _slots[handle] = value;
    }

    public void Free(int handle)
    {
        Debug.Assert(_slots[handle] is not null, "double free of an object handle");
        _slots[handle] = null;
        if (_freeCount == _free.Length)
            Array.Resize(ref _free, _free.Length * 2);
        _free[_freeCount++] = handle;
        Count--;
    }

    /// <summary>Drops every object (FLUSHALL).</summary>
    public void Clear()
    {
        _slots = new object?[1024];
        _free = new int[256];
        _freeCount = 0;
        _next = 1;
        Count = 0;
    }
}
