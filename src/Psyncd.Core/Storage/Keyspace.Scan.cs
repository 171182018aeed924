using FASTER.core;

namespace Psyncd.Storage;

/// <summary>Iteration over a database: SCAN, KEYS, RANDOMKEY, FLUSHDB, FLUSHALL.</summary>
/// <remarks>
/// All databases share one log, so iteration walks the log and keeps the records of the wanted database
/// that are their key's live record. A SCAN cursor is a log address: records only ever move forward (a
/// rewrite or a compaction copies a record to the tail), so a key present for the whole iteration is met
/// at least once, which is SCAN's guarantee. Cursors carry a 16-bit check so that a made-up cursor can't
/// start the walk in the middle of a record; a cursor failing the check restarts at its page's beginning
/// (returning keys again is allowed by SCAN's contract).
/// </remarks>
public sealed unsafe partial class Keyspace
{
    private static readonly ulong s_cursorSecret = (ulong)Random.Shared.NextInt64();
    private readonly Random _random = new();

    /// <summary>
    /// Walks database <paramref name="db"/> from <paramref name="cursor"/>, calling <paramref name="visit"/>
    /// for each live, unexpired key, until about <paramref name="count"/> keys were visited (or ten times as
    /// many records were looked at). Returns the next cursor, 0 when the walk is complete.
    /// </summary>
    public ulong Scan(int db, ulong cursor, long count, ScanVisitor visit)
    {
        long address = DecodeCursor(cursor);
        long end = _store.Log.TailAddress;
        if (address >= end)
            return 0;
        long found = 0;
        long looked = 0;
        long maxLooked = Math.Max(count, 1) * 10;
        using (var iterator = _store.Log.Scan(address, end, ScanBufferingMode.NoBuffering))
        {
            while (found < count && looked < maxLooked && iterator.GetNext(out var info))
            {
                looked++;
                address = iterator.NextAddress;
                if (info.Tombstone || info.Invalid)
                    continue;
                ref var storeKey = ref iterator.GetKey();
                var keyBytes = storeKey.AsReadOnlySpan();
                if (keyBytes[0] != db)
                    continue;
                if (!IsLiveAt(ref storeKey, iterator.CurrentAddress, out var record) || IsLogicallyExpired(record))
                    continue;
                found++;
                visit(keyBytes[1..], MakeEntry(record));
            }
            if (found < count && looked < maxLooked)
                return 0;
        }
        return address >= _store.Log.TailAddress ? 0 : EncodeCursor(address);
    }

    /// <summary>
    /// Calls <paramref name="visit"/> for every live, unexpired key of database <paramref name="db"/> (KEYS);
    /// with <paramref name="includeExpired"/> also for keys whose time passed but that are still stored
    /// (DEBUG DIGEST: Redis walks its dictionary, where such keys stay until they are deleted).
    /// </summary>
    public void ForEachKey(int db, ScanVisitor visit, bool includeExpired = false)
    {
        long end = _store.Log.TailAddress;
        using var iterator = _store.Log.Scan(_store.Log.BeginAddress, end, ScanBufferingMode.NoBuffering);
        while (iterator.GetNext(out var info))
        {
            if (info.Tombstone || info.Invalid)
                continue;
            ref var storeKey = ref iterator.GetKey();
            var keyBytes = storeKey.AsReadOnlySpan();
            if (keyBytes[0] != db)
                continue;
            if (!IsLiveAt(ref storeKey, iterator.CurrentAddress, out var record) || (!includeExpired && IsLogicallyExpired(record)))
                continue;
            visit(keyBytes[1..], MakeEntry(record));
        }
    }

    /// <summary>A key of database <paramref name="db"/> chosen at random (RANDOMKEY), or null when it is empty.</summary>
    /// <remarks>
    /// Starts the walk at a random page of the log and picks at random among the next few live keys of the
    /// database; expired keys met on the way are deleted as a lookup would delete them.
    /// </remarks>
    public byte[]? RandomKey(int db)
    {
        if (_keyCounts[db] == 0)
            return null;
        long begin = _store.Log.BeginAddress;
        long end = _store.Log.TailAddress;
        long pages = Math.Max(1, (end - begin + _settings.PageBytes - 1) / _settings.PageBytes);
        long start = Math.Max(begin, ((begin / _settings.PageBytes) + _random.NextInt64(pages)) * _settings.PageBytes);
        byte[]? pick = null;
        int seen = 0;
        for (int pass = 0; pass < 2; pass++)
        {
            long from = pass == 0 ? start : begin;
            long to = pass == 0 ? end : Math.Min(start, end);
            if (from >= to)
                continue;
            using var iterator = _store.Log.Scan(from, to, ScanBufferingMode.NoBuffering);
            while (iterator.GetNext(out var info))
            {
                if (info.Tombstone || info.Invalid)
                    continue;
                ref var storeKey = ref iterator.GetKey();
                var keyBytes = storeKey.AsReadOnlySpan();
                if (keyBytes[0] != db || !IsLiveAt(ref storeKey, iterator.CurrentAddress, out var record))
                    continue;
                if (IsLogicallyExpired(record))
                {
                    if (ExpiryMode == ExpiryMode.Delete)
                        ExpireKey(db, keyBytes[1..].ToArray(), record);
                    if (_keyCounts[db] == 0)
                        return pick;
                    continue;
                }
                // Reservoir sampling over the first few live keys met, so that keys sharing a page are
                // picked alike (taking the first one met would always pick the same key of a small database).
                seen++;
                if (_random.Next(seen) == 0)
                    pick = keyBytes[1..].ToArray();
                if (seen == RandomKeyCandidates)
                    return pick;
            }
        }
        return pick;
    }

    /// <summary>Live keys RANDOMKEY chooses among, from its random starting point on.</summary>
    private const int RandomKeyCandidates = 16;

    /// <summary>Deletes every key of database <paramref name="db"/> (FLUSHDB).</summary>
    public void FlushDatabase(int db)
    {
        JournalFlush();
        bool othersEmpty = true;
        for (int i = 0; i < _databases; i++)
        {
            if (i != db && _keyCounts[i] > 0)
                othersEmpty = false;
        }
        if (othersEmpty)
        {
            FlushAll();
            return;
        }
        var keys = new List<byte[]>();
        ForEachRecordOf(db, key => keys.Add(key.ToArray()));
        foreach (var key in keys)
        {
            if (TryReadRecord(db, key, out var record))
                DeleteExisting(db, key, record);
        }
        _expiries[db].Clear();
        Dirty += keys.Count;
        Observer?.DatabaseFlushed(db);
    }

    /// <summary>Deletes every key of every database (FLUSHALL), by starting a new, empty store.</summary>
    public void FlushAll()
    {
        JournalFlush();
        long removed = 0;
        for (int i = 0; i < _databases; i++)
            removed += _keyCounts[i];
        // A running snapshot must first get every key it has not walked yet: the old store goes away.
        if (_snapshot is not null)
            ContinueSnapshot(int.MaxValue);
        bool wasInEpoch = _inEpoch;
        if (wasInEpoch)
        {
            _session.UnsafeContext.EndUnsafe();
            _inEpoch = false;
        }
        ReleasedLogBytes += LogMemoryBytes + IndexBytes;
        _session.Dispose();
        _store.Dispose();
        CreateGeneration();
        _liveBytes = 0;
        if (wasInEpoch)
        {
            _session.UnsafeContext.BeginUnsafe();
            _inEpoch = true;
        }
        Dirty += removed;
        for (int i = 0; i < _databases; i++)
            Observer?.DatabaseFlushed(i);
    }

    /// <summary>Every live key of a database, expired or not (for FLUSHDB and DEBUG).</summary>
    private void ForEachRecordOf(int db, KeyVisitor visit)
    {
        long end = _store.Log.TailAddress;
        using var iterator = _store.Log.Scan(_store.Log.BeginAddress, end, ScanBufferingMode.NoBuffering);
        while (iterator.GetNext(out var info))
        {
            if (info.Tombstone || info.Invalid)
                continue;
            ref var storeKey = ref iterator.GetKey();
            var keyBytes = storeKey.AsReadOnlySpan();
            if (keyBytes[0] == db && IsLiveAt(ref storeKey, iterator.CurrentAddress, out _))
                visit(keyBytes[1..]);
        }
    }

    private bool IsLogicallyExpired(RecordRef record)
        => ExpiryMode != ExpiryMode.Ignore && ValueLayout.HasExpiry(record.Value) && NowMs > ValueLayout.ExpireAt(record.Value);

    private static ulong EncodeCursor(long address) => ((ulong)address << 16) | CursorCheck(address);

    private long DecodeCursor(ulong cursor)
    {
        if (cursor == 0)
            return _store.Log.BeginAddress;
        long address = (long)(cursor >> 16);
        if ((cursor & 0xFFFF) != CursorCheck(address))
            address = address / _settings.PageBytes * _settings.PageBytes;
        return Math.Max(address, _store.Log.BeginAddress);
    }

    private static ulong CursorCheck(long address)
    {
        ulong x = ((ulong)address ^ s_cursorSecret) * 0x9E3779B97F4A7C15UL;
        return (x >> 48) & 0xFFFF;
    }
}

/// <summary>Visits one key during a walk; the entry is valid only during the call.</summary>
public delegate void ScanVisitor(ReadOnlySpan<byte> key, in Entry entry);

/// <summary>Visits one key during a walk.</summary>
public delegate void KeyVisitor(ReadOnlySpan<byte> key);
