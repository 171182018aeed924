namespace Psyncd.Execution;

/// <summary>What a watched key looked like when WATCH was called, kept current until the key is touched.</summary>
internal enum WatchedKeyState : byte
{
    /// <summary>The key existed and was alive: deleting it (FLUSHDB, expiry) touches the watch.</summary>
    Existed,

    /// <summary>The key did not exist: a flush changes nothing; creating it touches the watch.</summary>
    Absent,

    /// <summary>
    /// The key was still stored but already past its time to live: logically absent, so its deletion
    /// (by expiry or a flush) is not a change; anything else is.
    /// </summary>
    ExpiredAtWatch,
}

/// <summary>One key one client WATCHes (Redis's watchedKey).</summary>
internal sealed class WatchedKey
{
    public WatchedKey(Client client, int db, byte[] key, WatchedKeyState state)
    {
        Client = client;
        Db = db;
        Key = key;
        State = state;
    }

    public Client Client { get; }

    public int Db { get; }

    public byte[] Key { get; }

    public WatchedKeyState State { get; set; }
}
