using Psyncd.Execution;
using Psyncd.Storage;

namespace Psyncd.Transactions;

/// <summary>
/// WATCH's bookkeeping (Redis's db->watched_keys and client->watched_keys): which clients watch which keys,
/// and marking them <see cref="ClientFlags.DirtyCas"/> when a watched key is touched, as Redis 7.0 does:
/// any modification, a deletion by expiry, a flush of a database where the key exists, and (checked at
/// EXEC) a key whose time to live passed since WATCH. A client marked dirty stops watching at once.
/// Lives inside the command loop.
/// </summary>
public sealed class WatchRegistry : IClientLifecycle, IKeyspaceListener
{
    void IKeyspaceListener.KeyModified(int db, ReadOnlySpan<byte> key) => OnKeyModified(db, key);

    void IKeyspaceListener.DatabaseFlushed(int db) => OnDatabaseFlushed(db);

    void IClientLifecycle.ClientRemoved(Client client) => UnwatchAll(client);

    private readonly Keyspace _keyspace;

    /// <summary>Watched keys of each database: key → its watchers, in WATCH order. Created on first use.</summary>
    private readonly Dictionary<byte[], List<WatchedKey>>?[] _byDb;

    /// <summary>Watches that exist, across all databases (0: key events cost one comparison).</summary>
    private int _count;

    /// <summary>Clients to mark dirty, collected while walking a list the marking changes.</summary>
    private readonly List<Client> _touched = new();

    public WatchRegistry(Keyspace keyspace)
    {
        _keyspace = keyspace;
        _byDb = new Dictionary<byte[], List<WatchedKey>>?[keyspace.DatabaseCount];
    }

    /// <summary>Number of (client, key) watches.</summary>
    public int Count => _count;

    /// <summary>Starts watching <paramref name="key"/> of database <paramref name="db"/> for <paramref name="client"/> (no-op when already watched).</summary>
    public void Watch(Client client, int db, ReadOnlySpan<byte> key)
    {
        var mine = client.WatchedKeys;
        if (mine is not null)
        {
            foreach (var existing in mine)
            {
                if (existing.Db == db && key.SequenceEqual(existing.Key))
                    return;
            }
        }
        var keyspace = _keyspace;
        var entry = keyspace.Peek(db, key);
        WatchedKeyState state;
        if (!entry.Exists)
            state = WatchedKeyState.Absent;
        else if (entry.ExpireAt >= 0 && keyspace.NowMs > entry.ExpireAt)
            state = WatchedKeyState.ExpiredAtWatch;
        else
            state = WatchedKeyState.Existed;

        var map = _byDb[db] ??= new Dictionary<byte[], List<WatchedKey>>(ByteArrayComparer.Instance);
        var lookup = map.GetAlternateLookup<ReadOnlySpan<byte>>();
        if (!lookup.TryGetValue(key, out var keyBytes, out var watchers))
        {
            keyBytes = key.ToArray();
            watchers = new List<WatchedKey>(1);
            map[keyBytes] = watchers;
        }
        var watched = new WatchedKey(client, db, keyBytes, state);
        watchers.Add(watched);
        (client.WatchedKeys ??= new List<WatchedKey>()).Add(watched);
        _count++;
    }

    /// <summary>Stops every watch of <paramref name="client"/> (UNWATCH, EXEC, DISCARD, disconnection). The dirty flag is the caller's.</summary>
    public void UnwatchAll(Client client)
    {
        var mine = client.WatchedKeys;
        if (mine is null)
            return;
        client.WatchedKeys = null;
        foreach (var watched in mine)
        {
            var map = _byDb[watched.Db]!;
            var watchers = map[watched.Key];
            watchers.Remove(watched);
            if (watchers.Count == 0)
                map.Remove(watched.Key);
            _count--;
        }
    }

    /// <summary>
    /// At EXEC: true when a key that was alive at WATCH time is now past its time to live, even if nothing
    /// deleted it yet (Redis 7.0's isWatchedKeyExpired).
    /// </summary>
    public bool AnyWatchedKeyExpired(Client client)
    {
        var mine = client.WatchedKeys;
        if (mine is null)
            return false;
        var keyspace = _keyspace;
        foreach (var watched in mine)
        {
            if (watched.State == WatchedKeyState.ExpiredAtWatch)
                continue;
            var entry = keyspace.Peek(watched.Db, watched.Key);
            if (entry.Exists && entry.ExpireAt >= 0 && keyspace.NowMs > entry.ExpireAt)
                return true;
        }
        return false;
    }

    private void OnKeyModified(int db, ReadOnlySpan<byte> key)
    {
        if (_count == 0)
            return;
        var map = _byDb[db];
        if (map is null || !map.GetAlternateLookup<ReadOnlySpan<byte>>().TryGetValue(key, out var watchers))
            return;
        foreach (var watched in watchers)
        {
            if (watched.State == WatchedKeyState.ExpiredAtWatch)
            {
                // Deleting a key that was already logically gone changes nothing; from now on it is absent.
                if (!_keyspace.Peek(db, key).Exists)
                {
                    watched.State = WatchedKeyState.Absent;
                    continue;
                }
            }
            _touched.Add(watched.Client);
        }
        MarkTouched();
    }

    private void OnDatabaseFlushed(int db)
    {
        var map = _byDb[db];
        if (map is null || map.Count == 0)
            return;
        foreach (var watchers in map.Values)
        {
            foreach (var watched in watchers)
            {
                switch (watched.State)
                {
                    case WatchedKeyState.Existed:
                        _touched.Add(watched.Client);
                        break;
                    case WatchedKeyState.ExpiredAtWatch:
                        watched.State = WatchedKeyState.Absent;
                        break;
                }
            }
        }
        MarkTouched();
    }

    /// <summary>Marks the collected clients dirty and stops their watches: nothing can undo the failure.</summary>
    private void MarkTouched()
    {
        if (_touched.Count == 0)
            return;
        foreach (var client in _touched)
        {
            client.Flags |= ClientFlags.DirtyCas;
            UnwatchAll(client);
        }
        _touched.Clear();
    }
}
