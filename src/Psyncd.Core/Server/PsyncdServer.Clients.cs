using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Psyncd.Commands;
using Psyncd.Protocol;

namespace Psyncd.Server;

/// <summary>Accepting connections, the client registry, MONITOR, and idle timeouts.</summary>
public sealed partial class PsyncdServer
{
    private readonly Dictionary<long, Client> _clients = new();
    private readonly HashSet<Task> _connectionTasks = new();

    /// <summary>Clients in MONITOR mode.</summary>
    public List<Client> Monitors { get; } = new();

    /// <summary>Every connected client, by id (inside the loop only).</summary>
    public IReadOnlyDictionary<long, Client> Clients => _clients;

    private async Task AcceptLoopAsync(IConnectionListener listener)
    {
        while (true)
        {
            ConnectionContext? connection;
            try
            {
                connection = await listener.AcceptAsync().ConfigureAwait(false);
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            if (connection is null)
                return;
            Accept(connection, listener.EndPoint is System.Net.Sockets.UnixDomainSocketEndPoint);
        }
    }

    private void Accept(ConnectionContext connection, bool unix)
    {
        var socket = connection.Features.Get<IConnectionSocketFeature>()?.Socket;
        if (socket is not null && !unix && Options.TcpKeepalive > 0)
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, Options.TcpKeepalive);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, Math.Max(1, Options.TcpKeepalive / 3));
        }
        var output = new ClientOutput(connection.Transport.Output, Loop);
        var client = new Client(output, connection.RemoteEndPoint, connection.LocalEndPoint, unix ? Options.UnixSocket : null);
        var clientConnection = new ClientConnection(connection, this, client);
        if (socket is not null)
            client.Fd = socket.Handle.ToInt64();

        bool accepted;
        Loop.Enter();
        try
        {
            accepted = _clients.Count < Options.MaxClients;
            if (accepted)
            {
                AddClient(client);
                Log.Verbose("Accepted " + client.Address);
            }
            else
            {
                Stats.RejectedConnections++;
            }
        }
        finally
        {
            Loop.Exit();
        }
        var task = accepted ? clientConnection.RunAsync() : RejectAsync(connection);
        lock (_connectionTasks)
            _connectionTasks.Add(task);
        _ = task.ContinueWith(t =>
        {
            lock (_connectionTasks)
                _connectionTasks.Remove(t);
        }, TaskScheduler.Default);
    }

    /// <summary>Answers a connection over <c>maxclients</c> with redis-server's error and closes it.</summary>
    private static async Task RejectAsync(ConnectionContext connection)
    {
        try
        {
            await connection.Transport.Output.WriteAsync("-ERR max number of clients reached\r\n"u8.ToArray()).ConfigureAwait(false);
            await connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
            await connection.Transport.Input.CompleteAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or ConnectionAbortedException or ObjectDisposedException)
        {
            // The peer is gone already.
        }
    }

    /// <summary>Registers a client (a connection, or the replica's link to its master).</summary>
    public void AddClient(Client client)
    {
        client.Context = new CommandContext(this, client);
        client.Authenticated = Options.RequirePass.Length == 0;
        _clients[client.Id] = client;
        Stats.TotalConnectionsReceived++;
    }

    /// <summary>Forgets a client that went away: every subsystem drops its state for it.</summary>
    public void RemoveClient(Client client, string? reason)
    {
        if (!_clients.Remove(client.Id))
            return;
        Monitors.Remove(client);
        OnClientRemoved(client, reason);
        if (reason is not null)
            Log.Verbose("Client closed (" + reason + "): " + client.Describe());
    }

    /// <summary>Hook for subsystems to drop per-client state (pub/sub, WATCH, blocking, replicas).</summary>
    partial void OnClientRemovedCore(Client client, string? reason);

    private void OnClientRemoved(Client client, string? reason) => OnClientRemovedCore(client, reason);

    private void CloseAllClients()
    {
        foreach (var client in _clients.Values.ToList())
            client.CloseAsap();
    }

    /// <summary>Closes clients idle for longer than <c>timeout</c> (not replicas, masters, blocked or subscribed clients).</summary>
    private void CloseIdleClients()
    {
        if (Options.Timeout <= 0)
            return;
        long now = Environment.TickCount64;
        long limit = Options.Timeout * 1000;
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
            Log.Verbose("Closing idle client");
            client.CloseAsap();
        }
    }

    /// <summary>Sends a command about to run to every MONITOR client, in redis-server's format.</summary>
    public void FeedMonitors(Client client, in CommandArgs args)
    {
        var now = DateTimeOffset.UtcNow;
        long micros = now.ToUnixTimeMilliseconds() * 1000 + (now.Ticks / 10 % 1000);
        var sb = new StringBuilder();
        sb.Append((micros / 1_000_000).ToString(CultureInfo.InvariantCulture)).Append('.')
          .Append((micros % 1_000_000).ToString("D6", CultureInfo.InvariantCulture))
          .Append(" [").Append(client.Db.ToString(CultureInfo.InvariantCulture)).Append(' ');
        sb.Append(client.IsUnixSocket ? "unix:" + Options.UnixSocket : client.Address).Append(']');
        for (int i = 0; i < args.Count; i++)
            sb.Append(' ').Append(Repr(args[i]));
        string line = sb.ToString();
        foreach (var monitor in Monitors)
        {
            monitor.Output.WriteSimpleString(line);
            monitor.Output.RequestFlush();
        }
    }

    /// <summary>Quotes bytes as redis-server's sdscatrepr does: "..." with \n \r \t \a \b \\ \" and \xHH escapes.</summary>
    public static string Repr(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length + 2);
        sb.Append('"');
        foreach (byte b in bytes)
        {
            switch (b)
            {
                case (byte)'\\': sb.Append("\\\\"); break;
                case (byte)'"': sb.Append("\\\""); break;
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                case 7: sb.Append("\\a"); break;
                case 8: sb.Append("\\b"); break;
                default:
                    if (b >= 32 && b < 127)
                        sb.Append((char)b);
                    else
                        sb.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
