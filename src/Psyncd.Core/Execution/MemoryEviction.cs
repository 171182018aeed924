using System.Diagnostics;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Storage;

namespace Psyncd.Execution;

/// <summary>
/// maxmemory (Redis's performEvictions): before a command runs, while the memory in use is over the limit,
/// evicts keys as <c>maxmemory-policy</c> chooses them. Each evicted key is deleted, counted in
/// <c>evicted_keys</c>, published as "evicted" and propagated as a DEL through the propagation list, as an
/// expired key is. Inside the loop only.
/// </summary>
/// <remarks>
/// <para>
/// The memory compared is <see cref="MemoryMonitor.UsedMemory"/> (INFO's used_memory: the managed heap)
/// minus what holds no data (<see cref="NotCounted"/>, INFO's mem_not_counted_for_evict): the record log's
/// pages beyond its live records (they are allocated a page at a time, and garbage stays until compaction),
/// and the heap estimate of values evicted or flushed since the last full collection (the collector frees
/// them later). Without that, evicting would not lower the figure until the collector ran, and every
/// command would go on evicting, emptying the dataset.
/// </para>
/// <para>
/// A round stops when the estimate of what it freed covers the excess, or when its time is spent
/// (<c>maxmemory-eviction-tenacity</c>, Redis 7.0's scale): the rest continues at the next command or cron
/// tick, and the command is not refused meanwhile. A replica with <c>replica-ignore-maxmemory</c> neither
/// evicts nor refuses: its master's DELs free its memory.
/// </para>
/// </remarks>
public sealed class MemoryEviction
{
    private readonly ServerOptions _options;
    private readonly Keyspace _keyspace;
    private readonly MemoryMonitor _memory;
    private readonly ServerStats _stats;
    private readonly ReplicationState _role;
    private readonly PropagationList _propagation;
    private readonly IEffectsSink _effects;
    private readonly Func<bool> _inExec;

    /// <summary>Bytes released (evicted values, a flushed store's log) that the collector may not have freed yet.</summary>
    private long _pendingBytes;
    private int _fullCollectionsSeen;
    private long _releasedLogSeen;

    public MemoryEviction(ServerOptions options, Keyspace keyspace, MemoryMonitor memory, ServerStats stats, ReplicationState role,
        PropagationList propagation, IEffectsSink effects, Func<bool> inExec)
    {
        _options = options;
        _keyspace = keyspace;
        _memory = memory;
        _stats = stats;
        _role = role;
        _propagation = propagation;
        _effects = effects;
        _inExec = inExec;
    }

    /// <summary>The memory maxmemory is compared with: used_memory minus <see cref="NotCounted"/>.</summary>
    public long CountedMemory() => Math.Max(0, _memory.UsedMemory() - NotCounted());

    /// <summary>
    /// Memory in used_memory that is not data (INFO's <c>mem_not_counted_for_evict</c>): the record log's pages
    /// beyond its live records (garbage that compaction reclaims, room not written yet), what was released
    /// (evicted values, a flushed store) but not yet collected, and the replicas' unsent output (as Redis's
    /// freeMemoryGetNotCountedMemory).
    /// </summary>
    public long NotCounted()
    {
        // What was released before a full collection that ran since is freed by it: noted first, then forgotten.
        long released = _keyspace.ReleasedLogBytes;
        _pendingBytes += released - _releasedLogSeen;
        _releasedLogSeen = released;
        int fullCollections = GC.CollectionCount(2);
        if (fullCollections != _fullCollectionsSeen)
        {
            _fullCollectionsSeen = fullCollections;
            _pendingBytes = 0;
        }
        return Math.Max(0, _keyspace.LogMemoryBytes - _keyspace.LiveBytes) + _pendingBytes + (_role.ReplicaOutputBytes?.Invoke() ?? 0);
    }

    /// <summary>
    /// Evicts while over maxmemory. False when still over it and nothing (more) can be evicted: commands that
    /// may add data are then refused with OOM. True when under the limit, without a limit, on a replica that
    /// ignores it, or when the round ran out of time with keys still to evict.
    /// </summary>
    public bool Perform()
    {
        long limit = _options.MaxMemory;
        if (limit <= 0 || (_role.IsReplica && _options.ReplicaIgnoreMaxMemory))
            return true;
        long used = CountedMemory();
        if (used <= limit)
            return true;
        var policy = _options.MaxMemoryPolicy;
        if (policy == MaxMemoryPolicy.NoEviction)
            return false;
        long toFree = used - limit;
        long freed = 0;
        long deadline = Stopwatch.GetTimestamp() + TimeLimitTicks(_options.MaxMemoryEvictionTenacity);
        bool ok = true;
        for (int evicted = 1; freed < toFree; evicted++)
        {
            if (!_keyspace.EvictOne(policy, _options.MaxMemorySamples, out long recordBytes, out long heapBytes))
            {
                ok = false;
                break;
            }
            freed += recordBytes + heapBytes;
            _pendingBytes += heapBytes;
            _stats.EvictedKeys++;
            // Checking the clock every 16 keys, as Redis does.
            if (evicted % 16 == 0 && Stopwatch.GetTimestamp() > deadline)
                break;
        }
        // The DELs go out now, each on its own, as the cron's expired keys do; inside EXEC they join the transaction's.
        if (!_inExec())
            _propagation.FlushTo(_effects, wrap: false);
        return ok;
    }

    /// <summary>Redis 7.0's evictionTimeLimitUs: 50 µs per step of tenacity up to 10, then growing by 15% a step; 100 has no limit.</summary>
    private static long TimeLimitTicks(int tenacity)
    {
        if (tenacity >= 100)
            return long.MaxValue / 2;
        double microseconds = tenacity <= 10 ? 50.0 * tenacity : 500.0 * Math.Pow(1.15, tenacity - 10);
        return (long)(microseconds * Stopwatch.Frequency / 1_000_000);
    }
}
