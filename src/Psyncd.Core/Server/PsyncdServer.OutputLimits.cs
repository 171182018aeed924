using Psyncd.Config;
using Psyncd.Execution;

namespace Psyncd.Server;

/// <summary>
/// <c>client-output-buffer-limit</c> for every client class (normal, replica, pubsub), as Redis's
/// checkClientOutputBufferLimits: over the hard limit the client is closed at once; over the soft limit for
/// longer than its seconds, too. Checked whenever a client's output grows by a chunk (so a client that
/// pipelines without reading is stopped while its requests run), and from the cron (so the soft limit's
/// time runs out even without new output).
/// </summary>
public sealed partial class PsyncdServer
{
    /// <summary>Clients found over their limit in this batch; their connections close when it ends.</summary>
    private readonly List<Client> _overOutputLimit = new();

    private Action<Client>? _outputGrew;

    private void InitializeOutputLimits()
    {
        _outputGrew = client => CheckOutputLimit(client);
        Loop.AddExitHook(CloseClientsOverOutputLimit);
        AddCronJob(CheckAllOutputLimits);
    }

    /// <summary>The limit of the client's class (Redis's getClientType): the master link has none.</summary>
    private OutputBufferLimit OutputLimitFor(Client client)
    {
        if (client.Has(ClientFlags.Master))
            return default;
        if (client.Has(ClientFlags.Replica))
            return Options.ReplicaOutputLimit;
        return client.SubscriptionCount > 0 ? Options.PubSubOutputLimit : Options.NormalOutputLimit;
    }

    /// <summary>
    /// True when the client is over its class's limit; it is then logged as redis-server logs it, its output
    /// is dropped at once, and its connection closes at the end of the batch. Never closes the connection
    /// from here: this runs in the middle of writing a reply, or of delivering to many clients.
    /// </summary>
    public bool CheckOutputLimit(Client client)
    {
        if (client.IsClosing || client.Output.IsDiscarding)
            return false;
        var limit = OutputLimitFor(client);
        if (limit.HardBytes == 0 && limit.SoftBytes == 0)
            return false;
        long used = client.Output.UnsentBytes;
        bool over = limit.HardBytes > 0 && used >= limit.HardBytes;
        if (limit.SoftBytes > 0 && used >= limit.SoftBytes)
        {
            long now = Environment.TickCount64;
            if (client.OutputSoftLimitSinceMs == 0)
                client.OutputSoftLimitSinceMs = now;
            else if (now - client.OutputSoftLimitSinceMs > limit.SoftSeconds * 1000)
                over = true;
        }
        else
        {
            client.OutputSoftLimitSinceMs = 0;
        }
        if (!over)
            return false;
        Log.Warning("Client " + ClientListFormat.Line(client) + " scheduled to be closed ASAP for overcoming of output buffer limits.");
        client.Flags |= ClientFlags.CloseAsap;
        client.Output.Discard();
        _overOutputLimit.Add(client);
        return true;
    }

    private void CheckAllOutputLimits()
    {
        foreach (var client in _clients.Values)
            CheckOutputLimit(client);
    }

    private void CloseClientsOverOutputLimit()
    {
        if (_overOutputLimit.Count == 0)
            return;
        foreach (var client in _overOutputLimit)
            client.CloseAsap();
        _overOutputLimit.Clear();
    }
}
