using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Psyncd.Execution;
using Psyncd.Network;

namespace Psyncd.Server;

/// <summary>Accepting connections, the client registry, MONITOR, and idle timeouts.</summary>
public sealed partial class PsyncdServer
{
    private readonly HashSet<Task> _connectionTasks = new();

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
        var clientConnection = new ClientConnection(connection, client, Loop, Processor, Registry, Stats, Options, Log);
        if (socket is not null)
            client.Fd = socket.Handle.ToInt64();

        bool accepted;
        byte[] refusal = s_maxClientsReached;
        Loop.Enter();
        try
        {
            accepted = Registry.Clients.Count < Options.MaxClients;
            // Protected mode: with no password, only local clients (Redis 7 no longer looks at bind here).
            if (accepted && Options.ProtectedMode && Options.RequirePass.Length == 0 && !client.IsLocal)
            {
                accepted = false;
                refusal = s_protectedModeDenied;
            }
            else if (accepted)
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
        var task = accepted ? clientConnection.RunAsync() : RejectAsync(connection, refusal);
        lock (_connectionTasks)
            _connectionTasks.Add(task);
        _ = task.ContinueWith(t =>
        {
            lock (_connectionTasks)
                _connectionTasks.Remove(t);
        }, TaskScheduler.Default);
    }

    private static readonly byte[] s_maxClientsReached = "-ERR max number of clients reached\r\n"u8.ToArray();

    /// <summary>Redis 7.0's reply to a non-local client in protected mode, word for word (typos included).</summary>
    private static readonly byte[] s_protectedModeDenied = Encoding.ASCII.GetBytes(
        "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the default user. " +
        "In this mode connections are only accepted from the loopback interface. " +
        "If you want to connect from external computers to Redis you may adopt one of the following solutions: " +
        "1) Just disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface " +
        "by connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly accessible " +
        "from internet if you do so. Use CONFIG REWRITE to make this change permanent. " +
        "2) Alternatively you can just disable the protected mode by editing the Redis configuration file, and setting the protected " +
        "mode option to 'no', and then restarting the server. " +
        "3) If you started the server manually just for testing, restart it with the '--protected-mode no' option. " +
        "4) Setup a an authentication password for the default user. " +
        "NOTE: You only need to do one of the above things in order for the server to start accepting connections from the outside.\r\n");

    /// <summary>Answers a connection that is not served (maxclients, protected mode) with redis-server's error and closes it.</summary>
    private static async Task RejectAsync(ConnectionContext connection, byte[] reply)
    {
        try
        {
            await connection.Transport.Output.WriteAsync(reply).ConfigureAwait(false);
            await connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
            await connection.Transport.Input.CompleteAsync().ConfigureAwait(false);
            await connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ConnectionResetException or ConnectionAbortedException or ObjectDisposedException)
        {
            // The peer is gone already.
        }
    }
}
