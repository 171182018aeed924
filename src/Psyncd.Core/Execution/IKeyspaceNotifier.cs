using Psyncd.Config;

namespace Psyncd.Execution;

/// <summary>
/// Keyspace notifications (notify-keyspace-events): commands report what they did to a key (declared here,
/// implemented by pub/sub, which publishes them).
/// </summary>
public interface IKeyspaceNotifier
{
    /// <summary>
    /// <paramref name="eventName"/> (lower case: "del", "expired", "set"...) happened to <paramref name="key"/> of
    /// database <paramref name="db"/>; published when <paramref name="type"/> is enabled. Call it after the change.
    /// </summary>
    void Notify(KeyspaceEventClass type, ReadOnlySpan<byte> eventName, int db, ReadOnlySpan<byte> key);
}
