namespace Psyncd.Server;

/// <summary>Hooks through which subsystems learn of server-level events.</summary>
public sealed partial class PsyncdServer
{
    /// <summary>Subsystems that drop per-client state when a client goes away (WATCH, pub/sub, blocking, replicas).</summary>
    public List<Action<Client>> ClientRemovedHandlers { get; } = new();

    partial void OnClientRemovedCore(Client client, string? reason)
    {
        foreach (var handler in ClientRemovedHandlers)
            handler(client);
    }
}
