using Psyncd.Execution;

namespace Psyncd.Server;

/// <summary>Clients blocked on list keys (BLPOP and friends).</summary>
public sealed partial class PsyncdServer
{

    /// <summary>
    /// Inside the loop, when this server turns replica: every blocked client (BLPOP and friends, WAIT) gets
    /// Redis's UNBLOCKED error and is closed after it. None may wait on: a replica's keys change only by its
    /// master's stream, which must not feed pops of our own.
    /// </summary>
    internal void DisconnectBlockedClients()
    {
        BlockingRegistry.FailAll(ErrorReplies.UnblockedRoleChange);
        Replication.FailWaiters(ErrorReplies.UnblockedRoleChange);
    }

    /// <summary>Clients blocked right now (INFO's blocked_clients).</summary>
    public int BlockedClientCount => BlockingRegistry.Count;
}
