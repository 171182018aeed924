namespace Psyncd.Execution;

/// <summary>The event classes of <c>notify-keyspace-events</c> (Redis's NOTIFY_* flags; the letters are the directive's).</summary>
[Flags]
public enum KeyspaceEventClass
{
    None = 0,

    /// <summary>K: publish to <c>__keyspace@db__:key</c>, the event as the message.</summary>
    Keyspace = 1 << 0,

    /// <summary>E: publish to <c>__keyevent@db__:event</c>, the key as the message.</summary>
    Keyevent = 1 << 1,

    /// <summary>g: generic commands (DEL, EXPIRE, RENAME...).</summary>
    Generic = 1 << 2,

    /// <summary>$: string commands.</summary>
    String = 1 << 3,

    /// <summary>l: list commands.</summary>
    List = 1 << 4,

    /// <summary>s: set commands.</summary>
    Set = 1 << 5,

    /// <summary>h: hash commands.</summary>
    Hash = 1 << 6,

    /// <summary>z: sorted set commands.</summary>
    ZSet = 1 << 7,

    /// <summary>x: a key deleted because its time to live passed.</summary>
    Expired = 1 << 8,

    /// <summary>e: a key evicted for maxmemory.</summary>
    Evicted = 1 << 9,

    /// <summary>A: every class but K and E.</summary>
    All = Generic | String | List | Set | Hash | ZSet | Expired | Evicted,
}
