using System.Buffers.Text;

namespace Psyncd.Server;

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

/// <summary>
/// Keyspace notifications (Redis 2.8's notify.c): commands report what they did to a key, and when the
/// class is enabled by <c>notify-keyspace-events</c> the event is published to the keyspace and keyevent
/// channels of the key's database. Nothing is published (or allocated) while the directive is empty.
/// </summary>
public sealed partial class PsyncdServer
{
    private string? _notifyParsedFrom;
    private KeyspaceEventClass _notifyClasses;

    /// <summary>The classes enabled by <c>notify-keyspace-events</c> (re-read when the directive changes).</summary>
    public KeyspaceEventClass NotifyClasses
    {
        get
        {
            var text = Options.NotifyKeyspaceEvents;
            if (!ReferenceEquals(text, _notifyParsedFrom))
            {
                _notifyClasses = ParseNotifyClasses(text);
                _notifyParsedFrom = text;
            }
            return _notifyClasses;
        }
    }

    /// <summary>
    /// Reports that <paramref name="eventName"/> (lower case: "del", "expired", "set"...) happened to
    /// <paramref name="key"/> of database <paramref name="db"/>; published when <paramref name="type"/> is enabled.
    /// Call it after the change is made, as Redis's notifyKeyspaceEvent.
    /// </summary>
    public void NotifyKeyspaceEvent(KeyspaceEventClass type, ReadOnlySpan<byte> eventName, int db, ReadOnlySpan<byte> key)
    {
        var classes = NotifyClasses;
        if ((classes & type) == 0)
            return;
        var pubSub = PubSubIfCreated;
        if (pubSub is null)
            return; // nobody ever subscribed: nobody to tell
        Span<byte> dbText = stackalloc byte[11];
        Utf8Formatter.TryFormat(db, dbText, out int dbLength);
        dbText = dbText[..dbLength];
        if ((classes & KeyspaceEventClass.Keyspace) != 0)
            pubSub.Publish(Channel("__keyspace@"u8, dbText, key), eventName);
        if ((classes & KeyspaceEventClass.Keyevent) != 0)
            pubSub.Publish(Channel("__keyevent@"u8, dbText, eventName), key);
    }

    /// <summary><c>prefix db __: name</c>.</summary>
    private static byte[] Channel(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> db, ReadOnlySpan<byte> name)
    {
        var channel = new byte[prefix.Length + db.Length + 3 + name.Length];
        var span = channel.AsSpan();
        prefix.CopyTo(span);
        db.CopyTo(span[prefix.Length..]);
        "__:"u8.CopyTo(span[(prefix.Length + db.Length)..]);
        name.CopyTo(span[(prefix.Length + db.Length + 3)..]);
        return channel;
    }

    /// <summary>Redis's keyspaceEventsStringToFlags; unknown characters are refused by the config registry.</summary>
    public static KeyspaceEventClass ParseNotifyClasses(string text)
    {
        var classes = KeyspaceEventClass.None;
        foreach (char c in text)
        {
            classes |= c switch
            {
                'A' => KeyspaceEventClass.All,
                'g' => KeyspaceEventClass.Generic,
                '$' => KeyspaceEventClass.String,
                'l' => KeyspaceEventClass.List,
                's' => KeyspaceEventClass.Set,
                'h' => KeyspaceEventClass.Hash,
                'z' => KeyspaceEventClass.ZSet,
                'x' => KeyspaceEventClass.Expired,
                'e' => KeyspaceEventClass.Evicted,
                'K' => KeyspaceEventClass.Keyspace,
                'E' => KeyspaceEventClass.Keyevent,
                _ => KeyspaceEventClass.None,
            };
        }
        // Without K or E nothing is published, whatever the classes.
        if ((classes & (KeyspaceEventClass.Keyspace | KeyspaceEventClass.Keyevent)) == 0)
            return KeyspaceEventClass.None;
        return classes;
    }
}
