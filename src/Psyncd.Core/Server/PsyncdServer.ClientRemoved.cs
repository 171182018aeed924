using Psyncd.Execution;

namespace Psyncd.Server;

/// <summary>Per-client cleanup when a client goes away, for every subsystem that keeps per-client state.</summary>
public sealed partial class PsyncdServer
{
    /// <summary>Called (inside the loop) when a client is removed: subsystems drop its state (blocking, ...).</summary>
    public List<Action<Client>> ClientRemovedHandlers { get; } = new();

    partial void OnClientRemovedCore(Client client, string? reason)
    {
        var handlers = ClientRemovedHandlers;
        for (int i = 0; i < handlers.Count; i++)
            handlers[i](client);
    }
}
