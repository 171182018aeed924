using FASTER.core;
using Psyncd.Config;
using Psyncd.Storage.Types;

namespace Psyncd.Storage;

/// <summary>Choosing and deleting keys for maxmemory (Redis's evict.c), by sampling.</summary>
/// <remarks>
/// <para>
/// The random policies take a random key (of any key: RANDOMKEY's walk; of keys with a time to live: the
/// expiry index) from the databases in turn. The LRU, LFU and TTL policies keep Redis's eviction pool: the 16
/// best candidates seen so far, ranked by idle time, by 255 minus the decayed LFU counter, or by nearness of
/// expiry. Each round adds <c>maxmemory-samples</c> keys per database to it (volatile-*: drawn from each
/// database's expiry index) and evicts the best candidate that still exists.
/// </para>
/// <para>
/// allkeys-lru and allkeys-lfu sample all keys without an index of every key (which every write would pay
/// for): each round takes <c>maxmemory-samples</c> live keys per database holding keys, one after the other
/// from a random place of the record log (every database at once), as Redis's dictGetSomeKeys takes
/// neighbouring buckets from a random place of a table. The pool keeps the best across rounds.
/// </para>
/// </remarks>
public sealed unsafe partial class Keyspace
{
    private const int EvictionPoolSize = 16;

    /// <summary>Bytes counted for each element of an evicted collection beyond its own bytes (references, nodes, hashing).</summary>
    private const int ElementOverhead = 48;

    /// <summary>Candidates in ascending order of score; the last is evicted first.</summary>
    private readonly List<(long Score, int Db, byte[] Key)> _evictionPool = new(EvictionPoolSize + 1);
    private MaxMemoryPolicy _evictionPoolPolicy;
    private int _nextEvictionDb;

    /// <summary>
    /// Evicts one key as <paramref name="policy"/> chooses it, told to observers as evicted. False when no key
    /// can be evicted (noeviction, or no key the policy may take). <paramref name="recordBytes"/> and
    /// <paramref name="heapBytes"/> estimate what was freed in the record log and in the object heap.
    /// </summary>
    public bool EvictOne(MaxMemoryPolicy policy, int samples, out long recordBytes, out long heapBytes)
    {
        recordBytes = heapBytes = 0;
        if (policy == MaxMemoryPolicy.NoEviction)
            return false;
        int db;
        byte[]? key;
        if (policy is MaxMemoryPolicy.AllKeysRandom or MaxMemoryPolicy.VolatileRandom)
        {
            if (!PickRandom(policy == MaxMemoryPolicy.VolatileRandom, out db, out key))
                return false;
        }
        else if (!PickFromPool(policy, Math.Max(1, samples), out db, out key))
        {
            return false;
        }
        if (!TryReadRecord(db, key, out var record))
            return false;
        recordBytes = RecordSize(key.Length, record.Capacity);
        heapBytes = HeapBytesOf(record);
        DeleteExisting(db, key, record);
        Dirty++;
        Observer?.KeyEvicted(db, key);
        return true;
    }

    /// <summary>A random key, of any kind or with a time to live, from the next database that has one.</summary>
    private bool PickRandom(bool volatileOnly, out int db, out byte[] key)
    {
        for (int n = 0; n < _databases; n++)
        {
            db = _nextEvictionDb;
            _nextEvictionDb = (_nextEvictionDb + 1) % _databases;
            if (volatileOnly)
            {
                if (_expiries[db].Count == 0)
                    continue;
                key = _expiries[db].Sample(_random);
                return true;
            }
            if (_keyCounts[db] > 0 && RandomKey(db) is { } picked)
            {
                key = picked;
                return true;
            }
        }
        db = 0;
        key = null!;
        return false;
    }

    /// <summary>The best candidate of the pool that still exists (and still has a time to live, for volatile-*), after a round of sampling.</summary>
    private bool PickFromPool(MaxMemoryPolicy policy, int samples, out int db, out byte[] key)
    {
        if (policy != _evictionPoolPolicy)
        {
            // Scores of another policy do not compare.
            _evictionPool.Clear();
            _evictionPoolPolicy = policy;
        }
        bool volatileOnly = policy.IsVolatile();
        for (int round = 0; round < 2; round++)
        {
            if (volatileOnly)
                SampleExpiring(policy, samples);
            else
                SampleLog(policy, samples);
            while (_evictionPool.Count > 0)
            {
                var best = _evictionPool[^1];
                _evictionPool.RemoveAt(_evictionPool.Count - 1);
                if (TryReadRecord(best.Db, best.Key, out var record) && (!volatileOnly || ValueLayout.HasExpiry(record.Value)))
                {
                    db = best.Db;
                    key = best.Key;
                    return true;
                }
            }
        }
        db = 0;
        key = null!;
        return false;
    }

    /// <summary>volatile-*: <paramref name="samples"/> keys of each database's expiry index into the pool.</summary>
    private void SampleExpiring(MaxMemoryPolicy policy, int samples)
    {
        for (int db = 0; db < _databases; db++)
        {
            var index = _expiries[db];
            int n = Math.Min(samples, index.Count);
            for (int i = 0; i < n; i++)
            {
                var key = index.Sample(_random);
                if (TryReadRecord(db, key, out var record))
                    OfferCandidate(Score(policy, record), db, key);
            }
        }
    }

    /// <summary>
    /// allkeys-lru/lfu: <paramref name="samples"/> live keys per database holding keys into the pool, taken one
    /// after the other from a random place of the record log: a random page, past a random number of its records.
    /// </summary>
    private void SampleLog(MaxMemoryPolicy policy, int samples)
    {
        long keys = 0;
        int populated = 0;
        for (int db = 0; db < _databases; db++)
        {
            keys += _keyCounts[db];
            if (_keyCounts[db] > 0)
                populated++;
        }
        int wanted = samples * populated;
        if (wanted == 0)
            return;
        long begin = _store.Log.BeginAddress;
        long tail = _store.Log.TailAddress;
        long pageBytes = _settings.PageBytes;
        long firstPage = begin / pageBytes;
        long pages = Math.Max(1, ((tail - 1) / pageBytes) - firstPage + 1);
        long from = Math.Max(begin, (firstPage + _random.NextInt64(pages)) * pageBytes);
        // Records of a page, by the log's average record (garbage included): a random number of them is skipped,
        // so that every key of a page may be sampled, not only its first ones.
        long averageRecord = Math.Max(16, LogBytes / Math.Max(1, keys));
        long skip = _random.NextInt64(Math.Max(1, Math.Min(keys, pageBytes / averageRecord)));
        int taken = 0;
        // The second pass, when the first met the log's end, starts over from its beginning.
        for (int pass = 0; pass < 2 && taken < wanted; pass++)
        {
            using var iterator = _store.Log.Scan(pass == 0 ? from : begin, tail, ScanBufferingMode.NoBuffering);
            while (taken < wanted && iterator.GetNext(out var info))
            {
                if (info.Tombstone || info.Invalid)
                    continue;
                if (skip > 0)
                {
                    skip--;
                    continue;
                }
                ref var storeKey = ref iterator.GetKey();
                if (!IsLiveAt(ref storeKey, iterator.CurrentAddress, out var record))
                    continue;
                var keyBytes = storeKey.AsReadOnlySpan();
                OfferCandidate(Score(policy, record), keyBytes[0], keyBytes[1..]);
                taken++;
            }
            skip = 0;
        }
    }

    /// <summary>Higher is evicted first: idle seconds (LRU), 255 minus the decayed counter (LFU), or how soon the key expires (TTL).</summary>
    private long Score(MaxMemoryPolicy policy, RecordRef record) => policy switch
    {
        MaxMemoryPolicy.VolatileLfu or MaxMemoryPolicy.AllKeysLfu => 255 - LfuDecayed(ValueLayout.Lru(record.Value)),
        MaxMemoryPolicy.VolatileTtl => long.MaxValue - ValueLayout.ExpireAt(record.Value),
        _ => IdleSeconds(ValueLayout.Lru(record.Value)),
    };

    /// <summary>Adds a candidate to the pool when it scores better than its worst (or the pool has room); a key already there is not added twice.</summary>
    private void OfferCandidate(long score, int db, ReadOnlySpan<byte> key)
    {
        var pool = _evictionPool;
        if (pool.Count == EvictionPoolSize && score <= pool[0].Score)
            return;
        for (int i = 0; i < pool.Count; i++)
        {
            if (pool[i].Db == db && key.SequenceEqual(pool[i].Key))
                return;
        }
        int at = 0;
        while (at < pool.Count && pool[at].Score < score)
            at++;
        pool.Insert(at, (score, db, key.ToArray()));
        if (pool.Count > EvictionPoolSize)
            pool.RemoveAt(0);
    }

    /// <summary>An estimate of the heap bytes a record's value holds (0 for an inline string), from its first elements.</summary>
    private long HeapBytesOf(RecordRef record)
    {
        byte* value = record.Value;
        if (ValueLayout.Kind(value) == ValueKind.String && !ValueLayout.IsHeapString(value))
            return 0;
        object held = _heap.Get(ValueLayout.LengthOrHandle(value));
        const int sampled = 16;
        long bytes = 0, count = 0, seen = 0;
        switch (held)
        {
            case HeapString s:
                return s.Data.Length + ElementOverhead;
            case ListObject list:
                count = list.Count;
                var cursor = list.At(0);
                while (seen < sampled && cursor.Next(out var element))
                {
                    bytes += element.Length;
                    seen++;
                }
                break;
            case SetObject set:
                count = set.Count;
                for (; seen < Math.Min(sampled, count); seen++)
                    bytes += set.MemberAt((int)seen).Length;
                break;
            case SortedSetObject zset:
                count = zset.Count;
                for (var node = zset.First; node is not null && seen < sampled; node = node.Next, seen++)
                    bytes += zset.MemberOf(node).Length + sizeof(double);
                break;
            case HashObject hash:
                count = hash.Count;
                for (int slot = 0; seen < sampled && slot < sampled * 4; slot++)
                {
                    if (hash.TryGetSlot(slot, out var field, out var fieldValue))
                    {
                        bytes += field.Length + fieldValue.Length;
                        seen++;
                    }
                }
                break;
        }
        long average = seen == 0 ? 0 : bytes / seen;
        return count * (average + ElementOverhead);
    }
}
