using System.Buffers.Text;
using System.Buffers;
using System.Runtime.CompilerServices;
using Psyncd.Config;
using Psyncd.Execution;

namespace Psyncd.PubSub;

/// <summary>
/// Keyspace notifications (Redis's notify.c): commands and the keyspace report what happened to a key, and when
/// the class is enabled by <c>notify-keyspace-events</c> the event is published to the keyspace and keyevent
/// channels of the key's database. The one place events are published; nothing is published (or allocated)
/// while the directive is empty.
/// </summary>
public sealed class KeyspaceNotifier : IKeyspaceNotifier
{
    /// <summary>Channels up to this size are built on the stack; longer keys rent a buffer.</summary>
    private const int StackChannelBytes = 256;

    private readonly ServerOptions _options;
    private readonly PubSubRegistry _pubSub;

    public KeyspaceNotifier(ServerOptions options, PubSubRegistry pubSub)
    {
        _options = options;
        _pubSub = pubSub;
    }

    /// <summary>
    /// Reports that <paramref name="eventName"/> (lower case: "del", "expired", "set"...) happened to
    /// <paramref name="key"/> of database <paramref name="db"/>; published when <paramref name="type"/> is enabled
    /// and K or E is. Call it after the change is made, as Redis's notifyKeyspaceEvent.
    /// </summary>
    public void Notify(KeyspaceEventClass type, ReadOnlySpan<byte> eventName, int db, ReadOnlySpan<byte> key)
    {
        // The check alone, so that the common case (events off) pays no stack buffers: every write calls this.
        if ((_options.NotifyKeyspaceEvents & type) != 0)
            Publish(type, eventName, db, key);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Publish(KeyspaceEventClass type, ReadOnlySpan<byte> eventName, int db, ReadOnlySpan<byte> key)
    {
        var classes = _options.NotifyKeyspaceEvents;
        Span<byte> dbText = stackalloc byte[11];
        Utf8Formatter.TryFormat(db, dbText, out int dbLength);
        dbText = dbText[..dbLength];
        if ((classes & KeyspaceEventClass.Keyspace) != 0)
            Publish("__keyspace@"u8, dbText, key, eventName);
        if ((classes & KeyspaceEventClass.Keyevent) != 0)
            Publish("__keyevent@"u8, dbText, eventName, key);
    }

    /// <summary>Publishes <paramref name="message"/> to the channel <c>prefix db __: name</c>.</summary>
    private void Publish(ReadOnlySpan<byte> prefix, ReadOnlySpan<byte> db, ReadOnlySpan<byte> name, ReadOnlySpan<byte> message)
    {
        int length = prefix.Length + db.Length + 3 + name.Length;
        byte[]? rented = null;
        Span<byte> channel = length <= StackChannelBytes
            ? stackalloc byte[StackChannelBytes]
            : (rented = ArrayPool<byte>.Shared.Rent(length));
        channel = channel[..length];
        prefix.CopyTo(channel);
        db.CopyTo(channel[prefix.Length..]);
        "__:"u8.CopyTo(channel[(prefix.Length + db.Length)..]);
        name.CopyTo(channel[(prefix.Length + db.Length + 3)..]);
        _pubSub.Publish(channel, message);
        if (rented is not null)
            ArrayPool<byte>.Shared.Return(rented);
    }
}
