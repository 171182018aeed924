using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;

namespace Psyncd.Server;

/// <summary>The checks every command passes before it runs, and the keyspace's events.</summary>
public sealed partial class PsyncdServer
{
    public bool Loading
    {
        get => Dataset.Loading;
        set => Dataset.Loading = value;
    }

    public bool LastBgsaveFailed
    {
        get => Dataset.LastBgsaveFailed;
        set => Dataset.LastBgsaveFailed = value;
    }

    public int GoodReplicaCount => Role.GoodReplicaCount;

    public bool MasterLinkUp => Role.MasterLinkUp;

    /// <summary>Subsystems that want to hear of every modified key (WATCH, blocked clients...).</summary>
    public List<KeyEventHandler> KeyModifiedHandlers { get; } = new();

    /// <summary>Subsystems that want to hear of flushed databases.</summary>
    public List<Action<int>> DatabaseFlushedHandlers { get; } = new();

    internal string? CheckCommandAllowed(Client client, CommandDescriptor cmd, in CommandArgs args) => Processor.CheckAllowed(client, cmd, args);

    public long UsedMemory() => Memory.UsedMemory();




    /// <summary>The keyspace's events, routed to the subsystems that asked for them.</summary>
    private sealed class KeyspaceEvents : IKeyspaceObserver
    {
        private readonly PsyncdServer _server;

        public KeyspaceEvents(PsyncdServer server)
        {
            _server = server;
        }

        public void KeyModified(int db, ReadOnlySpan<byte> key)
        {
            var handlers = _server.KeyModifiedHandlers;
            for (int i = 0; i < handlers.Count; i++)
                handlers[i](db, key);
        }

        public void KeyExpired(int db, ReadOnlySpan<byte> key)
        {
            // A master propagates the deletion of an expired key as a DEL, so replicas delete it too.
            _server.Processor.Propagation.AddDel(db, key);
            _server.NotifyKeyspaceEvent(KeyspaceEventClass.Expired, "expired"u8, db, key);
            KeyModified(db, key);
        }

        public void DatabaseFlushed(int db)
        {
            foreach (var handler in _server.DatabaseFlushedHandlers)
                handler(db);
        }
    }
}

