using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Protocol;
using Psyncd.Text;

namespace Psyncd.Execution;

/// <summary>Every connected client (a connection, or the replica's link to its master), MONITOR, idle timeouts; tells the subsystems when one goes away. Inside the loop only.</summary>
public sealed class ClientRegistry
{
    private readonly ServerOptions _options;
    private readonly ServerLog _log;
    private readonly ServerStats _stats;
    private readonly Func<Client, CommandContext> _newContext;
    private readonly Action<Client>? _outputGrew;

    public ClientRegistry(ServerOptions options, ServerLog log, ServerStats stats, Func<Client, CommandContext> newContext, Action<Client>? outputGrew)
    {
        _options = options;
        _log = log;
        _stats = stats;
        _newContext = newContext;
        _outputGrew = outputGrew;
    }

    private readonly Dictionary<long, Client> _clients = new();

    /// <summary>Clients in MONITOR mode.</summary>
    public List<Client> Monitors { get; } = new();

    /// <summary>Every connected client, by id (inside the loop only).</summary>
    public IReadOnlyDictionary<long, Client> Clients => _clients;

    /// <summary>Registers a client (a connection, or the replica's link to its master).</summary>
    /// <summary>Gives a client that is not a connection (the scripts' client) its command context, without registering it.</summary>
    public void AttachContext(Client client) => client.Context = _newContext(client);

    public void AddClient(Client client)
    {
        client.Context = _newContext(client);
        client.Authenticated = _options.RequirePass.Length == 0;
        client.Output.Grew = _outputGrew;
        _clients[client.Id] = client;
        _stats.TotalConnectionsReceived++;
    }

    /// <summary>Forgets a client that went away: every subsystem drops its state for it.</summary>
    public void RemoveClient(Client client, string? reason)
    {
        if (!_clients.Remove(client.Id))
            return;
        Monitors.Remove(client);
        foreach (var listener in _lifecycle)
            listener.ClientRemoved(client);
        if (reason is not null)
            _log.Verbose("Client closed (" + reason + "): " + client.Describe());
    }

    private readonly List<IClientLifecycle> _lifecycle = new();

    /// <summary>Registers a subsystem to tell when a client goes away (the composition root does, once each).</summary>
    public void AddLifecycle(IClientLifecycle listener) => _lifecycle.Add(listener);

    public void CloseAllClients()
    {
        foreach (var client in _clients.Values.ToList())
            client.CloseAsap();
    }

    /// <summary>Closes clients idle for longer than <c>timeout</c> (not replicas, masters, blocked or subscribed clients).</summary>
    public void CloseIdleClients()
    {
        if (_options.Timeout <= 0)
            return;
        long now = Environment.TickCount64;
        long limit = _options.Timeout * 1000;
        List<Client>? idle = null;
        foreach (var client in _clients.Values)
        {
            if ((client.Flags & (ClientFlags.Replica | ClientFlags.Master | ClientFlags.Blocked)) != 0 || client.SubscriptionCount > 0)
                continue;
            if (now - client.LastInteractionMs > limit)
                (idle ??= new()).Add(client);
        }
        if (idle is null)
            return;
        foreach (var client in idle)
        {
            _log.Verbose("Closing idle client");
            client.CloseAsap();
        }
    }

    /// <summary>
    /// Sends a command to every MONITOR client, in redis-server's format; the arguments of <paramref name="redacted"/>
    /// (bit i: argument i) show as "(redacted)".
    /// </summary>
    public void FeedMonitors(Client client, in CommandArgs args, ulong redacted)
    {
        var now = DateTimeOffset.UtcNow;
        long micros = now.ToUnixTimeMilliseconds() * 1000 + (now.Ticks / 10 % 1000);
        var sb = new StringBuilder();
        sb.Append((micros / 1_000_000).ToString(CultureInfo.InvariantCulture)).Append('.')
          .Append((micros % 1_000_000).ToString("D6", CultureInfo.InvariantCulture))
          .Append(" [").Append(client.Db.ToString(CultureInfo.InvariantCulture)).Append(' ');
        // Commands a script runs show "lua" where a client shows its address, as redis-server's MONITOR.
        if (client.Has(ClientFlags.Script))
            sb.Append("lua");
        else
            sb.Append(client.IsUnixSocket ? "unix:" + _options.UnixSocket : client.Address);
        sb.Append(']');
        for (int i = 0; i < args.Count; i++)
            sb.Append(' ').Append(i < 64 && (redacted & (1UL << i)) != 0 ? "\"(redacted)\"" : Repr.Quote(args[i]));
        string line = sb.ToString();
        foreach (var monitor in Monitors)
        {
            monitor.Output.WriteSimpleString(line);
            monitor.Output.RequestFlush();
        }
    }
}
