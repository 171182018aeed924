using Psyncd.Config;
using Psyncd.Storage;

namespace Psyncd.Execution;

/// <summary>
/// The keyspace's events (Storage's <see cref="IKeyspaceObserver"/>), routed to the subsystems that keep state
/// about keys. A key that expires on a master is also propagated as a DEL and notified. Inside the loop only.
/// </summary>
public sealed class KeyspaceEventRouter : IKeyspaceObserver
{
    private readonly List<IKeyspaceListener> _listeners = new();
    private readonly PropagationList _propagation;
    private readonly IKeyspaceNotifier _notifier;

    public KeyspaceEventRouter(PropagationList propagation, IKeyspaceNotifier notifier)
    {
        _propagation = propagation;
        _notifier = notifier;
    }

    /// <summary>Registers a subsystem (the composition root does, once each).</summary>
    public void AddListener(IKeyspaceListener listener) => _listeners.Add(listener);

    public void KeyModified(int db, ReadOnlySpan<byte> key)
    {
        for (int i = 0; i < _listeners.Count; i++)
            _listeners[i].KeyModified(db, key);
    }

    public void KeyExpired(int db, ReadOnlySpan<byte> key)
    {
        // A master propagates the deletion of an expired key as a DEL, so replicas delete it too.
        _propagation.AddDel(db, key);
        _notifier.Notify(KeyspaceEventClass.Expired, "expired"u8, db, key);
        KeyModified(db, key);
    }

    public void KeyEvicted(int db, ReadOnlySpan<byte> key)
    {
        // Replicas and the stream learn of an eviction as of an expiry: a DEL.
        _propagation.AddDel(db, key);
        _notifier.Notify(KeyspaceEventClass.Evicted, "evicted"u8, db, key);
        KeyModified(db, key);
    }

    public void KeyAdded(int db, ReadOnlySpan<byte> key) => _notifier.Notify(KeyspaceEventClass.New, "new"u8, db, key);

    public void KeyMissed(int db, ReadOnlySpan<byte> key) => _notifier.Notify(KeyspaceEventClass.KeyMiss, "keymiss"u8, db, key);

    public void DatabaseFlushed(int db)
    {
        for (int i = 0; i < _listeners.Count; i++)
            _listeners[i].DatabaseFlushed(db);
    }
}
