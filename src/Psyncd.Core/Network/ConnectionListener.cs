using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;

namespace Psyncd.Network;

/// <summary>
/// The listening side: binds the TCP addresses and the Unix socket, accepts connections, refuses those over
/// maxclients or outside protected mode with redis-server's errors, and gives each accepted one a client and
/// a receive loop (<see cref="ClientConnection"/>).
/// </summary>
public sealed class ConnectionListener
{
    private readonly ServerOptions _options;
    private readonly ServerLog _log;
    private readonly CommandLoop _loop;
    private readonly ClientRegistry _registry;
    private readonly CommandProcessor _processor;
    private readonly ServerStats _stats;
    private readonly ServerIdentity _identity;
    private readonly List<IConnectionListener> _listeners = new();
    private readonly List<Task> _acceptLoops = new();
    private SocketTransportFactory? _transport;

    public ConnectionListener(ServerOptions options, ServerLog log, CommandLoop loop, ClientRegistry registry, CommandProcessor processor,
        ServerStats stats, ServerIdentity identity)
    {
        _options = options;
        _log = log;
        _loop = loop;
        _registry = registry;
        _processor = processor;
        _stats = stats;
        _identity = identity;
    }

    /// <summary>Binds every configured address; throws <see cref="ServerStartException"/> with the reason when one cannot be bound.</summary>
    public async Task BindAsync()
    {
        var transportOptions = new SocketTransportOptions
        {
            // Continuations run on the socket's own I/O thread, as a single-threaded event loop would.
            UnsafePreferInlineScheduling = true,
            NoDelay = true,
            Backlog = _options.TcpBacklog,
            // Query buffer size is checked by the server itself (client-query-buffer-limit), so a large bulk
            // argument is never stuck behind the transport's back-pressure.
            MaxReadBufferSize = null,
            MaxWriteBufferSize = ClientOutput.TransportBufferBytes,
            WaitForDataBeforeAllocatingBuffer = true,
        };
        _transport = new SocketTransportFactory(new OptionsWrapper<SocketTransportOptions>(transportOptions), NullLoggerFactory.Instance);

        if (_options.Port != 0)
        {
            var addresses = _options.Bind.Count > 0 ? _options.Bind : new List<string> { "0.0.0.0" };
            foreach (var address in addresses)
            {
                if (!IPAddress.TryParse(address, out var ip))
                {
                    var resolved = Dns.GetHostAddresses(address);
                    ip = resolved.Length > 0 ? resolved[0] : throw new ServerStartException("Could not create server TCP listening socket " + address + ":" + _options.Port + ": unknown host");
                }
                await BindAsync(new IPEndPoint(ip, _options.Port), address + ":" + _options.Port).ConfigureAwait(false);
            }
        }
        if (_options.UnixSocket.Length > 0)
        {
            if (File.Exists(_options.UnixSocket))
                File.Delete(_options.UnixSocket);
            await BindAsync(new UnixDomainSocketEndPoint(_options.UnixSocket), _options.UnixSocket).ConfigureAwait(false);
            if (_options.UnixSocketPerm != 0 && !OperatingSystem.IsWindows())
                File.SetUnixFileMode(_options.UnixSocket, (UnixFileMode)_options.UnixSocketPerm);
            _log.Notice("The server is now ready to accept connections at " + _options.UnixSocket);
        }
    }

    /// <summary>Starts accepting on every bound listener.</summary>
    public void StartAccepting()
    {
        // Accept loops run on the thread pool: with inline socket completions an accept loop started on
        // the caller's thread would keep it serving connections, and the caller would not get control back.
        foreach (var listener in _listeners)
            _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(listener)));
    }

    /// <summary>Stops listening (connections already accepted stay open).</summary>
    public async Task StopAsync()
    {
        foreach (var listener in _listeners)
        {
            try
            {
                await listener.UnbindAsync().ConfigureAwait(false);
                await listener.DisposeAsync().ConfigureAwait(false);
            }
            catch (Exception e) when (e is ObjectDisposedException or SocketException)
            {
                // Already closed.
            }
        }
    }

    private async Task BindAsync(EndPoint endPoint, string description)
    {
        try
        {
            var listener = await _transport!.BindAsync(endPoint).ConfigureAwait(false);
            _listeners.Add(listener);
            if (listener.EndPoint is IPEndPoint bound)
                _identity.BoundPort = bound.Port;
        }
        catch (Exception e) when (e is AddressInUseException or SocketException or IOException)
        {
            string why = e is AddressInUseException ? "bind: Address already in use" : e.Message;
            throw new ServerStartException("Could not create server TCP listening socket " + description + ": " + why);
        }
    }

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
        if (socket is not null && !unix && _options.TcpKeepalive > 0)
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, _options.TcpKeepalive);
            socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, Math.Max(1, _options.TcpKeepalive / 3));
        }
        var output = new ClientOutput(connection.Transport.Output, _loop);
        var client = new Client(output, connection.RemoteEndPoint, connection.LocalEndPoint, unix ? _options.UnixSocket : null);
        var clientConnection = new ClientConnection(connection, client, _loop, _processor, _registry, _stats, _options, _log);
        if (socket is not null)
            client.Fd = socket.Handle.ToInt64();

        bool accepted;
        byte[] refusal = s_maxClientsReached;
        _loop.Enter();
        try
        {
            accepted = _registry.Clients.Count < _options.MaxClients;
            // Protected mode: with no password, only local clients (Redis 7 no longer looks at bind here).
            if (accepted && _options.ProtectedMode && _options.RequirePass.Length == 0 && !client.IsLocal)
            {
                accepted = false;
                refusal = s_protectedModeDenied;
            }
            else if (accepted)
            {
                _registry.AddClient(client);
                _log.Verbose("Accepted " + client.Address);
            }
            else
            {
                _stats.RejectedConnections++;
            }
        }
        finally
        {
            _loop.Exit();
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

/// <summary>The server could not start; the message is the log line that says why.</summary>
public sealed class ServerStartException : Exception
{
    public ServerStartException(string message)
        : base(message)
    {
    }
}
