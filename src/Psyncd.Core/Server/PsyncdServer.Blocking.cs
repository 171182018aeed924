namespace Psyncd.Server;

/// <summary>Clients blocked on list keys (BLPOP and friends).</summary>
public sealed partial class PsyncdServer
{
    private BlockingRegistry? _blocking;

    /// <summary>The registry of blocked clients, created (and hooked into the loop) when a client first blocks.</summary>
    public BlockingRegistry Blocking => _blocking ??= new BlockingRegistry(this);

    /// <summary>Clients blocked right now (INFO's blocked_clients).</summary>
    public int BlockedClientCount => _blocking?.Count ?? 0;
}
