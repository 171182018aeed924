using Psyncd.Execution;

namespace Psyncd.Server;

/// <summary>Clients blocked on list keys (BLPOP and friends).</summary>
public sealed partial class PsyncdServer
{
    private BlockingRegistry? _blocking;

    /// <summary>The registry of blocked clients, created (and hooked into the loop) when a client first blocks.</summary>
    public BlockingRegistry Blocking => _blocking ??= new BlockingRegistry(this);

    /// <summary>
    /// Inside the loop, when this server turns replica: every blocked client (BLPOP and friends, WAIT) gets
    /// Redis's UNBLOCKED error and is closed after it. None may wait on: a replica's keys change only by its
    /// master's stream, which must not feed pops of our own.
    /// </summary>
    internal void DisconnectBlockedClients()
    {
        _blocking?.FailAll(ErrorReplies.UnblockedRoleChange);
        Replication.FailWaiters(ErrorReplies.UnblockedRoleChange);
    }

    /// <summary>Clients blocked right now (INFO's blocked_clients).</summary>
    public int BlockedClientCount => _blocking?.Count ?? 0;
}
