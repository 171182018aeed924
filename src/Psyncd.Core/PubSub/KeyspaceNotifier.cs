using System.Buffers.Text;
using Psyncd.Config;
using Psyncd.Execution;

namespace Psyncd.PubSub;

/// <summary>
/// Keyspace notifications (Redis 2.8's notify.c): commands report what they did to a key, and when the
/// class is enabled by <c>notify-keyspace-events</c> the event is published to the keyspace and keyevent
/// channels of the key's database. Nothing is published (or allocated) while the directive is empty.
/// </summary>
public sealed class KeyspaceNotifier : IKeyspaceNotifier
{
    private readonly ServerOptions _options;
    private readonly PubSubRegistry _pubSub;

    public KeyspaceNotifier(ServerOptions options, PubSubRegistry pubSub)
    {
        _options = options;
        _pubSub = pubSub;
    }

    void IKeyspaceNotifier.Notify(KeyspaceEventClass type, ReadOnlySpan<byte> eventName, int db, ReadOnlySpan<byte> key)
        => NotifyKeyspaceEvent(type, eventName, db, key);

    private string? _notifyParsedFrom;
    private KeyspaceEventClass _notifyClasses;

    /// <summary>The classes enabled by <c>notify-keyspace-events</c> (re-read when the directive changes).</summary>
    public KeyspaceEventClass NotifyClasses
    {
        get
        {
            var text = _options.NotifyKeyspaceEvents;
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
        var pubSub = _pubSub;
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
