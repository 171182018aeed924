using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Runtime.InteropServices;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;

namespace Psyncd.Network;

/// <summary>
/// The listening side: binds the TCP addresses and the Unix socket, accepts connections on the
/// <see cref="EventLoop"/>, refuses those over maxclients or outside protected mode with redis-server's errors,
/// and gives each accepted one a client (<see cref="ClientConnection"/>).
/// </summary>
public sealed class ConnectionListener
{
    /// <summary>Most connections taken in one readable event of a listener (as Redis's MAX_ACCEPTS_PER_CALL).</summary>
    private const int MaxAcceptsPerEvent = 1000;

    private readonly ServerOptions _options;
    private readonly ServerLog _log;
    private readonly CommandLoop _loop;
    private readonly ClientRegistry _registry;
    private readonly CommandProcessor _processor;
    private readonly ServerStats _stats;
    private readonly ServerIdentity _identity;
    private readonly List<Acceptor> _listeners = new();
    private EventLoop? _events;

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
    public Task BindAsync()
    {
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
                Bind(new IPEndPoint(ip, _options.Port), address + ":" + _options.Port, unix: false);
            }
        }
        if (_options.UnixSocket.Length > 0)
        {
            if (File.Exists(_options.UnixSocket))
                File.Delete(_options.UnixSocket);
            Bind(new UnixDomainSocketEndPoint(_options.UnixSocket), _options.UnixSocket, unix: true);
            if (_options.UnixSocketPerm != 0 && !OperatingSystem.IsWindows())
                File.SetUnixFileMode(_options.UnixSocket, (UnixFileMode)_options.UnixSocketPerm);
            _log.Notice("The server is now ready to accept connections at " + _options.UnixSocket);
        }
        return Task.CompletedTask;
    }

    /// <summary>The event loop of every connection, started by the first to need it (accepting, or a replica's link to its master).</summary>
    internal EventLoop Events
    {
        get
        {
            lock (_listeners)
                return _events ??= new EventLoop(_log, _options, _stats);
        }
    }

    /// <summary>Starts accepting on every bound listener.</summary>
    public void StartAccepting()
    {
        var events = Events;
        foreach (var listener in _listeners)
            events.Post(() => listener.Token = events.Register((int)listener.Socket.Handle, Native.EpollIn, listener));
        // Group commit (appendonly): the durable log is written once per pass of the event loop, after every
        // connection it found ready, as redis-server writes its AOF in beforeSleep; replies wait for it.
        // The replicas' flush too (Replication/Master/ReplicaFlusher), for the batches run on the event loop's thread.
        Action commit = _loop.CommitPass;
        _loop.Run(() =>
        {
            _loop.RequestCommit = () => events.Post(commit);
            _loop.PassFeedsReplicas = events.SleepAfterPass;
            _loop.PassThread = events.LoopThread;
        });
    }

    /// <summary>Stops listening (connections already accepted stay open; the event loop ends with the last of them).</summary>
    public Task StopAsync()
    {
        // From now on every exit of the loop commits the durable log itself.
        _loop.Run(() =>
        {
            _loop.RequestCommit = null;
            _loop.PassFeedsReplicas = null;
            _loop.PassThread = null;
        });
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        EventLoop? started;
        lock (_listeners)
            started = _events;
        if (started is not { } events)
        {
            foreach (var listener in _listeners)
                listener.Socket.Dispose();
            return Task.CompletedTask;
        }
        events.Post(() =>
        {
            foreach (var listener in _listeners)
            {
                if (listener.Token >= 0)
                    events.Unregister(listener.Token);
                Native.Control(events.Epoll, Native.EpollCtlDel, (int)listener.Socket.Handle, 0, 0);
                listener.Socket.Dispose();
            }
            done.SetResult();
        });
        events.StopWhenIdle();
        return done.Task;
    }

    private void Bind(EndPoint endPoint, string description, bool unix)
    {
        var socket = unix
            ? new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
            : new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            if (!unix)
            {
                // As redis-server: a restart binds again while connections of the last run linger in TIME_WAIT.
                // SO_REUSEADDR alone, set with setsockopt itself: .NET's ReuseAddress option also sets
                // SO_REUSEPORT on Linux, which let a second server bind a port that is in use and share its
                // connections (ServerProcessTests caught it).
                Native.SetOption((int)socket.Handle, Native.SolSocket, Native.SoReuseAddr, 1);
                if (((IPEndPoint)endPoint).Address.Equals(IPAddress.IPv6Any))
                    socket.DualMode = true;
            }
            socket.Bind(endPoint);
            socket.Listen(_options.TcpBacklog);
            // accept4 is called until it would block.
            socket.Blocking = false;
        }
        catch (SocketException e)
        {
            socket.Dispose();
            string why = e.SocketErrorCode == SocketError.AddressAlreadyInUse ? "bind: Address already in use" : e.Message;
            throw new ServerStartException("Could not create server TCP listening socket " + description + ": " + why);
        }
        _listeners.Add(new Acceptor(this, socket, unix));
        if (socket.LocalEndPoint is IPEndPoint bound)
            _identity.BoundPort = bound.Port;
    }

    /// <summary>A listening socket in the event loop: each readable event accepts what is waiting.</summary>
    private sealed class Acceptor(ConnectionListener owner, Socket socket, bool unix) : IEventHandler
    {
        public Socket Socket { get; } = socket;

        public long Token { get; set; } = -1;

        public void OnEvents(int events)
        {
            int fd = (int)Socket.Handle;
            for (int i = 0; i < MaxAcceptsPerEvent; i++)
            {
                int accepted = Native.Accept(fd, 0, 0, Native.SockNonBlock | Native.SockCloexec);
                if (accepted < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Native.EIntr)
                        continue;
                    if (errno != Native.EAgain)
                        owner._log.Warning("Accepting client connection: errno " + errno);
                    return;
                }
                owner.Accept(accepted, unix);
            }
        }
    }

    private void Accept(int fd, bool unix)
    {
        if (!unix)
        {
            // Replies go out at once, as redis-server sets TCP_NODELAY on its clients.
            Native.SetOption(fd, Native.IpProtoTcp, Native.TcpNoDelay, 1);
            if (_options.TcpKeepalive > 0)
            {
                Native.SetOption(fd, Native.SolSocket, Native.SoKeepAlive, 1);
                Native.SetOption(fd, Native.IpProtoTcp, Native.TcpKeepIdle, _options.TcpKeepalive);
                Native.SetOption(fd, Native.IpProtoTcp, Native.TcpKeepIntvl, Math.Max(1, _options.TcpKeepalive / 3));
            }
        }
        var connection = ClientConnection.Create(fd, unix ? _options.UnixSocket : null, _events!, _loop, _processor, _registry, _stats, _options, _log);
        var client = connection.Client;

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
        if (!accepted)
            connection.Refuse(refusal);
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
}

/// <summary>The server could not start; the message is the log line that says why.</summary>
public sealed class ServerStartException : Exception
{
    public ServerStartException(string message)
        : base(message)
    {
    }
}
