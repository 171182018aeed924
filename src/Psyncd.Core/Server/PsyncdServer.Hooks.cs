namespace Psyncd.Server;

/// <summary>Hooks through which subsystems hear of the server's lifecycle events.</summary>
public sealed partial class PsyncdServer
{
    /// <summary>
    /// Subsystems that keep per-client state (WATCH, pub/sub, blocking, replicas) and must drop it when a
    /// client goes away. Called inside the loop, once per removed client.
    /// </summary>
    public List<Action<Client>> ClientRemovedHandlers { get; } = new();

    partial void OnClientRemovedCore(Client client, string? reason)
    {
        var handlers = ClientRemovedHandlers;
        for (int i = 0; i < handlers.Count; i++)
            handlers[i](client);
    }
}
