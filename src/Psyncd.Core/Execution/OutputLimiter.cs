using Psyncd.Config;
using Psyncd.Diagnostics;

namespace Psyncd.Execution;

/// <summary>client-output-buffer-limit for every client class (normal, replica, pubsub), as Redis's checkClientOutputBufferLimits: over the hard limit the client is closed at once; over the soft limit for longer than its seconds, too. Checked when a client's output grows by a chunk and from the cron.</summary>
public sealed class OutputLimiter
{
    private readonly ServerOptions _options;
    private readonly ServerLog _log;

    public OutputLimiter(ServerOptions options, ServerLog log)
    {
        _options = options;
        _log = log;
    }

    /// <summary>Clients found over their limit in this batch; their connections close when it ends.</summary>
    private readonly List<Client> _overOutputLimit = new();

    /// <summary>The limit of the client's class (Redis's getClientType): the master link has none.</summary>
    private OutputBufferLimit OutputLimitFor(Client client)
    {
        if (client.Has(ClientFlags.Master))
            return default;
        if (client.Has(ClientFlags.Replica))
            return _options.ReplicaOutputLimit;
        return client.SubscriptionCount > 0 ? _options.PubSubOutputLimit : _options.NormalOutputLimit;
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
        _log.Warning("Client " + ClientListFormat.Line(client) + " scheduled to be closed ASAP for overcoming of output buffer limits.");
        client.Flags |= ClientFlags.CloseAsap;
        client.Output.Discard();
        _overOutputLimit.Add(client);
        return true;
    }

    public void CheckAllOutputLimits(IEnumerable<Client> clients)
    {
        foreach (var client in clients)
            CheckOutputLimit(client);
    }

    public void CloseClientsOverOutputLimit()
    {
        if (_overOutputLimit.Count == 0)
            return;
        foreach (var client in _overOutputLimit)
            client.CloseAsap();
        _overOutputLimit.Clear();
    }
}
