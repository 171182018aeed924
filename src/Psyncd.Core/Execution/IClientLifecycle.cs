namespace Psyncd.Execution;

/// <summary>A subsystem that keeps per-client state and drops it when the client goes away (Redis's freeClient steps).</summary>
public interface IClientLifecycle
{
    /// <summary>Called inside the loop once <paramref name="client"/> left the registry.</summary>
    void ClientRemoved(Client client);
}
