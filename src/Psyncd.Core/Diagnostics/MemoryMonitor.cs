using System.Diagnostics;
using System.Runtime;

namespace Psyncd.Diagnostics;

/// <summary>
/// Giving memory back to the operating system after a large amount of transient memory was released: a
/// client or replica output buffer that was dropped or drained, a large query buffer.
/// </summary>
/// <remarks>
/// <para>
/// Why the server has to ask. The garbage collector only runs when something allocates: once the client
/// that held a gigabyte of replies is gone, an idle server allocates almost nothing, so no collection of
/// the old generation comes for a long time and the dead buffers stay resident (RSS stayed at its peak
/// for good; redis-server's allocator returns the pages within seconds). Even a collection would return
/// the freed regions to the system only gradually.
/// </para>
/// <para>
/// What it does. Code that lets go of buffers says so: <see cref="ReleasedMemory.Note"/> for an output
/// buffer discarded with its client, <see cref="ReleasedMemory.NoteDrained"/> for overflow that reached
/// the socket. When the bytes noted since the last reclaim reach
/// <see cref="ReclaimThreshold"/>, the cron runs one aggressive full collection (blocking and compacting,
/// then decommitting every free region). A counter rather than a sampled gauge: a client can fill and
/// drop a gigabyte between two cron ticks (one receive batch of pipelined requests, then a close). The
/// collection's cost grows with the live heap, hence the rate limit and a threshold that grows with the
/// heap: a reclaim happens only when it returns a good part of what it has to walk.
/// </para>
/// </remarks>
public sealed class MemoryMonitor
{
    private readonly ServerLog _log;
    private long _usedMemoryCache;
    private long _usedMemoryCachedAt = long.MinValue;
    private int _usedMemoryCollections;

    public MemoryMonitor(ServerLog log)
    {
        _log = log;
    }

    /// <summary>
    /// Memory in use, as INFO's used_memory and maxmemory see it: the managed heap, which holds FASTER's
    /// log pages and index as well as collections. Recomputed at most once a tick of the clock, and after
    /// every collection.
    /// </summary>
    /// <remarks>
    /// The tick is the coarse clock's (4 ms here), long enough for several commands: a figure read before a
    /// collection and served after it counted the freed garbage as data, and CONFIG SET maxmemory, which
    /// collects first, then set a limit from it tens of MB too high (EvictionPolicyTests). Any collection
    /// counts as a gen-0 one, so that count tells whether the cached figure predates one.
    /// </remarks>
    public long UsedMemory()
    {
        long now = Environment.TickCount64;
        int collections = GC.CollectionCount(0);
        if (now != _usedMemoryCachedAt || collections != _usedMemoryCollections)
        {
            _usedMemoryCache = GC.GetTotalMemory(false);
            _usedMemoryCachedAt = now;
            _usedMemoryCollections = collections;
        }
        return _usedMemoryCache;
    }

    /// <summary>The peak of <see cref="UsedMemory"/> seen by INFO and the cron (used_memory_peak).</summary>
    public long UsedMemoryPeak { get; private set; }

    /// <summary>Memory in use, also recording the peak (INFO memory).</summary>
    public long SampleUsedMemory()
    {
        long used = UsedMemory();
        if (used > UsedMemoryPeak)
            UsedMemoryPeak = used;
        return used;
    }

    /// <summary>CONFIG RESETSTAT: the peak starts again from what is in use now.</summary>
    public void ResetPeak() => UsedMemoryPeak = UsedMemory();

    /// <summary>Smallest amount of released memory worth a full collection.</summary>
    private const long MinReclaimBytes = 32L << 20;

    /// <summary>Least time between two reclaims: a full collection pauses every thread.</summary>
    private const long ReclaimIntervalMs = 2000;

    /// <summary>Longest wait between reclaims that only drained buffers ask for (see <see cref="CheckReleasedMemory"/>).</summary>
    private const long MaxDrainIntervalMs = 64_000;

    private long _lastReclaimMs = long.MinValue / 2;

    /// <summary>Least time between reclaims asked for by drained buffers: doubles while they return little.</summary>
    private long _drainIntervalMs = ReclaimIntervalMs;

    /// <summary>Set inside the loop when a reclaim is due; the cron runs it after leaving the loop.</summary>
    private bool _reclaimDue;

    /// <summary>True when the due reclaim is the idle one (<see cref="CheckIdle"/>), for the log line.</summary>
    private bool _reclaimForIdle;

    /// <summary>Allocation since the last reclaim that makes an idle server worth one.</summary>
    private const long IdleReclaimAllocatedBytes = 16L << 20;

    /// <summary>How long no command must have run before the server counts as idle.</summary>
    private const long IdleMs = 1000;

    private long _allocatedAtLastReclaim;
    private long _commandsSeen = -1;
    private long _idleSinceMs;

    /// <summary>Number of reclaims so far.</summary>
    public long MemoryReclaims { get; private set; }

    /// <summary>Bytes by which the GC's committed memory shrank in reclaims so far.</summary>
    public long MemoryReclaimedBytes { get; private set; }

    /// <summary>The released memory that triggers a reclaim: 32 MB, or a quarter of the heap when larger.</summary>
    private static long ReclaimThreshold() => Math.Max(MinReclaimBytes, GC.GetGCMemoryInfo().HeapSizeBytes / 4);

    /// <summary>Inside the loop, at every cron tick: decides whether a reclaim is due.</summary>
    /// <remarks>
    /// Dropped buffers (a client closed with its output) are memory nobody will reuse: they are reclaimed
    /// at the pace of <see cref="ReclaimIntervalMs"/>. Drained buffers may be memory in constant use: a
    /// replica or client that reads a steady stream through its overflow drains tens of MB a second, which
    /// the ordinary collections already recycle. A reclaim they ask for that returns little doubles the
    /// wait before the next one (up to <see cref="MaxDrainIntervalMs"/>), so such a stream does not pay a
    /// full collection every two seconds.
    /// </remarks>
    public void CheckReleasedMemory()
    {
        long dropped = ReleasedMemory.Dropped;
        long released = dropped + ReleasedMemory.Drained;
        long since = Environment.TickCount64 - _lastReclaimMs;
        if (released < MinReclaimBytes || since < ReclaimIntervalMs)
            return;
        long threshold = ReclaimThreshold();
        if (dropped >= threshold || (released >= threshold && since >= _drainIntervalMs))
            _reclaimDue = true;
    }

    /// <summary>
    /// Inside the loop, at every cron tick: a server idle for a second, that allocated at least
    /// <see cref="IdleReclaimAllocatedBytes"/> since the last reclaim, gets one.
    /// </summary>
    /// <remarks>
    /// What a burst of writes lets go of stays in used_memory and RSS until a full collection, which an idle
    /// server does not get: a collection's outgrown arrays (a 1M-field hash leaves 12 MB of them on the large
    /// object heap), the gen0 garbage of a load. redis-server frees such memory at once. Waiting for a second
    /// without commands keeps the pause (tens of ms with 1M keys, more with 1M-element collections) out of
    /// a burst, and the allocation threshold keeps an idle server from collecting again and again. Counted
    /// from the last reclaim, not from the last full collection: the collection that a collection's growth
    /// triggers runs while the old arrays are still referenced, and keeps them.
    /// </remarks>
    public void CheckIdle(long commandsProcessed)
    {
        long now = Environment.TickCount64;
        if (commandsProcessed != _commandsSeen)
        {
            _commandsSeen = commandsProcessed;
            _idleSinceMs = now;
            return;
        }
        if (now - _idleSinceMs < IdleMs || now - _lastReclaimMs < ReclaimIntervalMs)
            return;
        if (GC.GetTotalAllocatedBytes() - _allocatedAtLastReclaim >= IdleReclaimAllocatedBytes)
        {
            _reclaimDue = true;
            _reclaimForIdle = true;
        }
    }

    /// <summary>Outside the loop, on the cron thread: runs a reclaim that <see cref="CheckReleasedMemory"/> found due.</summary>
    public void ReclaimIfDue()
    {
        if (!_reclaimDue)
            return;
        _reclaimDue = false;
        bool idle = _reclaimForIdle;
        _reclaimForIdle = false;
        long released = ReleasedMemory.Take();
        long committedBefore = GC.GetGCMemoryInfo().TotalCommittedBytes;
        var watch = Stopwatch.StartNew();
        ReclaimNow();
        watch.Stop();
        _lastReclaimMs = Environment.TickCount64;
        _allocatedAtLastReclaim = GC.GetTotalAllocatedBytes();
        long returned = Math.Max(0, committedBefore - GC.GetGCMemoryInfo().TotalCommittedBytes);
        if (!idle)
            _drainIntervalMs = returned >= released / 4 ? ReclaimIntervalMs : Math.Min(_drainIntervalMs * 2, MaxDrainIntervalMs);
        MemoryReclaims++;
        MemoryReclaimedBytes += returned;
        _log.Verbose("Returned " + (returned >> 20) + " MB to the system " + (idle ? "once idle" : "after " + (released >> 20)
            + " MB of buffers were released") + " (full collection: " + watch.ElapsedMilliseconds + " ms)");
    }

    /// <summary>
    /// One full, compacting collection that also returns free memory to the system: the large object heap
    /// is compacted too (large buffers leave holes there otherwise) and the aggressive mode decommits
    /// every free region at once rather than over the following collections.
    /// </summary>
    public static void ReclaimNow()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    /// <summary>Resident set size from /proc/self/statm (pages); falls back to the process's working set.</summary>
    public static long ResidentSetBytes()
    {
        try
        {
            string text = File.ReadAllText("/proc/self/statm");
            var fields = text.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 1 && long.TryParse(fields[1], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out long pages))
                return pages * Environment.SystemPageSize;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Not Linux: use what the runtime knows.
        }
        return Environment.WorkingSet;
    }
}
