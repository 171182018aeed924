using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Psyncd.Blocking;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Persistence;
using Psyncd.Protocol;
using Psyncd.PubSub;
using Psyncd.Replication;
using Psyncd.Storage;
using Psyncd.Transactions;

namespace Psyncd.Server;

/// <summary>
/// The server: owns the command loop and every subsystem, listens, accepts, and shuts down. Subsystems
/// keep their server-level state in partial files of this class (clients, cron, checks, ...).
/// </summary>
public sealed partial class PsyncdServer : IAsyncDisposable
{
    private readonly List<IConnectionListener> _listeners = new();
    private readonly List<Task> _acceptLoops = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource<int> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SocketTransportFactory? _transport;

    public PsyncdServer(ServerOptions options, ServerLog log)
    {
        Options = options;
        Log = log;
        Memory = new MemoryMonitor(log);
        Loop = new CommandLoop();
        Keyspace = new Keyspace(StoreSettingsFrom(options), options.Databases);
        Stats = new ServerStats();
        SlowLog = new SlowLog(options);
        Stream = new ReplicationStream();
        Pause = new ClientPause(Loop);
        Limiter = new OutputLimiter(options, log);
        PubSubRegistry = new PubSubRegistry(Limiter);
        var notifier = new KeyspaceNotifier(options, PubSubRegistry);
        Registry = new ClientRegistry(options, log, Stats, client => new CommandContext(this, client) { Notifier = notifier, Role = Role }, client => Limiter.CheckOutputLimit(client));
        var propagation = new PropagationList();
        WatchRegistry = new WatchRegistry(Keyspace);
        Commands = new CommandTable();
        BlockingRegistry = new BlockingRegistry(options.Databases, Keyspace, propagation, Stream, Role);
        Processor = new CommandProcessor(options, log, Commands, Registry, Pause, Keyspace, Stats, SlowLog, Dataset, Memory, Role, Stream, propagation);
        RdbPersistence = new RdbPersistence(Loop, Keyspace, options, log, Dataset, Memory, Role, propagation, Stream);
        ReplicationManager = new ReplicationManager(options, log, Loop, Keyspace, Stream, Registry, Processor, Stats, Identity,
                                                    BlockingRegistry, RdbPersistence, Role);
        Commands.Build(CommandFamilies.All
            .Append(new BlockingCommands(BlockingRegistry).Register)
            .Append(new TransactionCommands(WatchRegistry, Processor, Registry).Register)
            .Append(new PubSubCommands(PubSubRegistry, Role).Register)
            .Append(new PersistenceCommands(RdbPersistence).Register)
            .Append(new ReplicationCommands(ReplicationManager, Stream, log, Role).Register), options.RenamedCommands);
        Loop.AddEnterHook(Keyspace.EnterLoop);
        Loop.AddExitHook(Keyspace.ExitLoop);
        KeyspaceEvents = new KeyspaceEventRouter(Processor.Propagation, notifier);
        Keyspace.Observer = KeyspaceEvents;
        KeyspaceEvents.AddListener(WatchRegistry);
        KeyspaceEvents.AddListener(BlockingRegistry);
        Registry.AddLifecycle(WatchRegistry);
        Registry.AddLifecycle(PubSubRegistry);
        Registry.AddLifecycle(BlockingRegistry);
        Processor.AfterCommand = BlockingRegistry;
        RdbPersistence.History = ReplicationManager;
        Processor.MasterStream = ReplicationManager;
        AddSecondJob(ReplicationManager.Cron);
        Loop.AddExitHook(ReplicationManager.BeforeSleep);
        Registry.AddLifecycle(ReplicationManager);
        Loop.AddExitHook(Limiter.CloseClientsOverOutputLimit);
        AddCronJob(() => Limiter.CheckAllOutputLimits(Registry.Clients.Values));
        AddCronJob(BlockingRegistry.ExpireTimeouts);
    }

    public ServerOptions Options { get; }

    /// <summary>Replication in both roles: replicas of this server, and this server's link to its master.</summary>
    public ReplicationManager ReplicationManager { get; }

    /// <summary>Clients blocked right now (INFO's blocked_clients).</summary>
    public int BlockedClientCount => BlockingRegistry.Count;

    /// <summary>SAVE, BGSAVE, save points, loading.</summary>
    public RdbPersistence RdbPersistence { get; }

    /// <summary>Channels, patterns and their subscribers.</summary>
    public PubSubRegistry PubSubRegistry { get; }

    /// <summary>WATCHed keys.</summary>
    public WatchRegistry WatchRegistry { get; }

    /// <summary>Clients blocked on list keys.</summary>
    public BlockingRegistry BlockingRegistry { get; }

    /// <summary>The keyspace's events, routed to WATCH and blocked clients.</summary>
    public KeyspaceEventRouter KeyspaceEvents { get; }

    /// <summary>Every client; tells the subsystems when one goes away.</summary>
    public ClientRegistry Registry { get; }

    /// <summary>CLIENT PAUSE.</summary>
    public ClientPause Pause { get; }

    /// <summary>client-output-buffer-limit.</summary>
    public OutputLimiter Limiter { get; }

    // Forwarders for the families and registries not moved yet (deleted in S6f).
    public IReadOnlyDictionary<long, Client> Clients => Registry.Clients;

    public List<Client> Monitors => Registry.Monitors;

    public void AddClient(Client client) => Registry.AddClient(client);

    public void RemoveClient(Client client, string? reason) => Registry.RemoveClient(client, reason);

    public void FeedMonitors(Client client, in CommandArgs args) => Registry.FeedMonitors(client, args);

    public long ClientPauseEndMs => Pause.ClientPauseEndMs;

    public void PauseClients(long milliseconds) => Pause.PauseClients(milliseconds);

    internal bool DeferWhilePaused(Client client) => Pause.DeferWhilePaused(client);

    public bool CheckOutputLimit(Client client) => Limiter.CheckOutputLimit(client);

    /// <summary>Used memory, its peak, and giving memory back to the system.</summary>
    public MemoryMonitor Memory { get; }

    /// <summary>Loading, and the last background save's failure: what the dispatcher refuses commands for.</summary>
    public DatasetState Dataset { get; } = new();

    public ServerLog Log { get; }

    /// <summary>Versions, run id, start time, bound port.</summary>
    public ServerIdentity Identity { get; } = new();

    public string RunId => Identity.RunId;

    public CommandLoop Loop { get; }

    public Keyspace Keyspace { get; }

    public CommandTable Commands { get; }

    public CommandProcessor Processor { get; }

    public ServerStats Stats { get; }

    public SlowLog SlowLog { get; }

    /// <summary>The replication stream every executed write is appended to.</summary>
    public ReplicationStream Stream { get; }

    public long StartedAtMs => Identity.StartedAtMs;

    /// <summary>The TCP port actually listened on (differs from the option when it was 0).</summary>
    public int BoundPort => Identity.BoundPort;

    /// <summary>True while this server replicates from a master.</summary>
    public bool IsReplica => Role.IsReplica;

    /// <summary>The replication role as everything but Replication reads it.</summary>
    public ReplicationState Role { get; } = new();

    /// <summary>Completes with the exit code once the server has shut down.</summary>
    public Task<int> Stopped => _stopped.Task;

    /// <summary>Signalled when shutdown begins.</summary>
    public CancellationToken StoppingToken => _stopping.Token;


    /// <summary>Binds the listeners; throws <see cref="ServerStartException"/> with the reason when one cannot be bound.</summary>
    public async Task StartAsync()
    {
        var transportOptions = new SocketTransportOptions
        {
            // Continuations run on the socket's own I/O thread, as a single-threaded event loop would.
            UnsafePreferInlineScheduling = true,
            NoDelay = true,
            Backlog = Options.TcpBacklog,
            // Query buffer size is checked by the server itself (client-query-buffer-limit), so a large bulk
            // argument is never stuck behind the transport's back-pressure.
            MaxReadBufferSize = null,
            MaxWriteBufferSize = ClientOutput.TransportBufferBytes,
            WaitForDataBeforeAllocatingBuffer = true,
        };
        _transport = new SocketTransportFactory(new OptionsWrapper<SocketTransportOptions>(transportOptions), NullLoggerFactory.Instance);

        if (Options.Port != 0)
        {
            var addresses = Options.Bind.Count > 0 ? Options.Bind : new List<string> { "0.0.0.0" };
            foreach (var address in addresses)
            {
                if (!IPAddress.TryParse(address, out var ip))
                {
                    var resolved = Dns.GetHostAddresses(address);
                    ip = resolved.Length > 0 ? resolved[0] : throw new ServerStartException("Could not create server TCP listening socket " + address + ":" + Options.Port + ": unknown host");
                }
                await BindAsync(new IPEndPoint(ip, Options.Port), address + ":" + Options.Port).ConfigureAwait(false);
            }
        }
        if (Options.UnixSocket.Length > 0)
        {
            if (File.Exists(Options.UnixSocket))
                File.Delete(Options.UnixSocket);
            await BindAsync(new UnixDomainSocketEndPoint(Options.UnixSocket), Options.UnixSocket).ConfigureAwait(false);
            if (Options.UnixSocketPerm != 0 && !OperatingSystem.IsWindows())
                File.SetUnixFileMode(Options.UnixSocket, (UnixFileMode)Options.UnixSocketPerm);
            Log.Notice("The server is now ready to accept connections at " + Options.UnixSocket);
        }
        AnnounceStartup();
        // Data is loaded before connections are accepted (they wait in the listen backlog meanwhile).
        OnStarted();
        // Replication from the configured master (the slaveof directive) starts once listening.
        if (Options.SlaveOf is { } master)
            Loop.Run(() => ReplicationManager.BecomeReplicaOf(master.Host, master.Port));
        StartCron();
        Log.Notice("Ready to accept connections");
        // Accept loops run on the thread pool: with inline socket completions an accept loop started on
        // this thread would keep it serving connections, and StartAsync would not return to its caller.
        foreach (var listener in _listeners)
            _acceptLoops.Add(Task.Run(() => AcceptLoopAsync(listener)));
    }

    private async Task BindAsync(EndPoint endPoint, string description)
    {
        try
        {
            var listener = await _transport!.BindAsync(endPoint).ConfigureAwait(false);
            _listeners.Add(listener);
            if (listener.EndPoint is IPEndPoint bound)
                Identity.BoundPort = bound.Port;
        }
        catch (Exception e) when (e is AddressInUseException or SocketException or IOException)
        {
            string why = e is AddressInUseException ? "bind: Address already in use" : e.Message;
            throw new ServerStartException("Could not create server TCP listening socket " + description + ": " + why);
        }
    }

    /// <summary>Hook run once the listeners are bound, before connections are accepted (loading data, starting replication...).</summary>
    partial void OnStartedCore();

    private void OnStarted() => OnStartedCore();

    /// <summary>
    /// Begins shutdown (SHUTDOWN, SIGTERM, SIGINT): optionally saves, closes every connection and listener,
    /// and completes <see cref="Stopped"/> with <paramref name="exitCode"/>. Safe to call more than once.
    /// </summary>
    public void RequestShutdown(int exitCode = 0)
    {
        if (_stopping.IsCancellationRequested)
            return;
        _stopping.Cancel();
        _ = Task.Run(async () =>
        {
            try
            {
                await ShutdownAsync().ConfigureAwait(false);
            }
            catch (Exception e)
            {
                Log.Warning("Error during shutdown: " + e.Message);
            }
            _stopped.TrySetResult(exitCode);
        });
    }

    private async Task ShutdownAsync()
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
        StopCron();
        Loop.Run(Registry.CloseAllClients);
        if (Options.UnixSocket.Length > 0 && File.Exists(Options.UnixSocket))
            File.Delete(Options.UnixSocket);
        if (Options.PidFile.Length > 0 && File.Exists(Options.PidFile))
            File.Delete(Options.PidFile);
    }

    public async ValueTask DisposeAsync()
    {
        RequestShutdown();
        await Stopped.ConfigureAwait(false);
        Keyspace.Dispose();
    }

    private static StoreSettings StoreSettingsFrom(ServerOptions options)
    {
        long memory = options.StoreLogMemory;
        if (memory == 0)
        {
            long total = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
            memory = Math.Max(total / 4 * 3, 256L << 20);
        }
        memory = 1L << (63 - (int)long.LeadingZeroCount(memory)); // round down to a power of two
        return new StoreSettings(memory, options.StoreLogPageSize, options.StoreIndexSize);
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
