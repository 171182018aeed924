using System.Diagnostics;

namespace Psyncd.Replication;

/// <summary>
/// When the stream's bytes were appended: a ring of (offset, time) marks, at most one a millisecond, from
/// which the master tells how long ago it wrote the first byte a replica has not acknowledged yet
/// (INFO's <c>lag_ms</c>).
/// </summary>
/// <remarks>
/// A mark says "the bytes from this offset on were appended at or after this time". Bytes appended less
/// than a millisecond after the last mark share it, so an age read here is at most a millisecond too old
/// and never too young. The ring keeps the last <see cref="Capacity"/> marks: at least that many
/// milliseconds of continuous writes; a byte older than the oldest mark is reported as old as that mark
/// (a lower bound, for a replica more than several seconds behind, whose <c>lag=</c> seconds say it too).
/// Inside the command loop only.
/// </remarks>
public sealed class StreamTimeline
{
    /// <summary>Marks kept: 8192 milliseconds of continuous writes, 128 kB.</summary>
    public const int Capacity = 8192;

    private static readonly long s_ticksPerMs = Stopwatch.Frequency / 1000;

    private readonly long[] _offsets = new long[Capacity];
    private readonly long[] _times = new long[Capacity];

    /// <summary>Index of the oldest mark, and the number held.</summary>
    private int _first;

    private int _count;

    /// <summary>Notes that the stream's byte <paramref name="firstOffset"/> (and those after it) is appended now.</summary>
    public void Mark(long firstOffset) => Mark(firstOffset, Stopwatch.GetTimestamp());

    /// <summary>As <see cref="Mark(long)"/>, at <paramref name="now"/> (Stopwatch ticks).</summary>
    public void Mark(long firstOffset, long now)
    {
        if (_count > 0)
        {
            int last = (_first + _count - 1) % Capacity;
            // The offset went back: a new history (a full sync adopted the master's offset). Start over.
            if (firstOffset < _offsets[last])
                Clear();
            // The last mark stands for bytes written within the same millisecond (one clock read per append,
            // one array write a millisecond at most).
            else if (now - _times[last] < s_ticksPerMs || firstOffset == _offsets[last])
                return;
        }
        int slot;
        if (_count < Capacity)
        {
            slot = (_first + _count) % Capacity;
            _count++;
        }
        else
        {
            slot = _first;
            _first = (_first + 1) % Capacity;
        }
        _offsets[slot] = firstOffset;
        _times[slot] = now;
    }

    /// <summary>Forgets every mark (a new history: offsets restart elsewhere).</summary>
    public void Clear()
    {
        _first = 0;
        _count = 0;
    }

    /// <summary>
    /// Milliseconds since stream byte <paramref name="offset"/> was appended, at <paramref name="now"/>
    /// (Stopwatch ticks); 0 when no mark is known.
    /// </summary>
    public long AgeMs(long offset, long now)
    {
        if (_count == 0)
            return 0;
        // The newest mark at or before the offset: binary search over the ring in logical order.
        int lo = 0, hi = _count - 1, found = 0;
        while (lo <= hi)
        {
            int mid = (lo + hi) >> 1;
            if (_offsets[(_first + mid) % Capacity] <= offset)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        long time = _times[(_first + found) % Capacity];
        return Math.Max(0, (now - time) / s_ticksPerMs);
    }
}
