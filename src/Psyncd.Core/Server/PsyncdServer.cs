using System.Globalization;
using Psyncd.Admin;
using Psyncd.Blocking;
using Psyncd.Commands;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Network;
using Psyncd.Persistence;
using Psyncd.PubSub;
using Psyncd.Replication;
using Psyncd.Scripting;
using Psyncd.Storage;
using Psyncd.Transactions;

namespace Psyncd.Server;

/// <summary>
/// The composition root: builds every component, wires them (the only place where one subsystem is made to
/// listen to another), starts, stops and drains. It holds no state of its own beyond its lifetime; what the
/// server knows lives in the components, which the properties below expose to the host and to in-process tests.
/// </summary>
public sealed class PsyncdServer : IShutdown, IAsyncDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly TaskCompletionSource<int> _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConnectionListener _listener;
    private readonly ServerCron _cron;

    public PsyncdServer(ServerOptions options, ServerLog log)
    {
        Options = options;
        Log = log;
        // The data plane and its state.
        Memory = new MemoryMonitor(log);
        Loop = new CommandLoop();
        Keyspace = new Keyspace(StoreSettingsFrom(options), options.Databases, options);
        Stats = new ServerStats();
        SlowLog = new SlowLog(options);
        Latency = new LatencyMonitor(options);
        Stream = new ReplicationStream();
        Pause = new ClientPause(Loop);
        Limiter = new OutputLimiter(options, log);
        PubSubRegistry = new PubSubRegistry(Limiter);
        var notifier = new KeyspaceNotifier(options, PubSubRegistry);
        var propagation = new PropagationList();
        // Contexts are made when a client connects, after the processor exists.
        Registry = new ClientRegistry(options, log, Stats,
            client => new CommandContext(client, Keyspace, options, propagation, notifier, Role, Processor!),
            client => Limiter.CheckOutputLimit(client));
        WatchRegistry = new WatchRegistry(Keyspace);
        BlockingRegistry = new BlockingRegistry(options.Databases, Keyspace, propagation, Stream, Role, notifier);
        Commands = new CommandTable();
        Processor = new CommandProcessor(options, log, Commands, Registry, Pause, Keyspace, Stats, SlowLog, Dataset, Memory, Role, Stream, propagation);
        // The features above it.
        RdbPersistence = new RdbPersistence(Loop, Keyspace, options, log, Dataset, Memory, Role, propagation, Stream);
        Aof = new AppendOnlyFile(Loop, Keyspace, options, log, RdbPersistence, Processor, Registry);
        ReplicationManager = new ReplicationManager(options, log, Loop, Keyspace, Stream, Registry, Processor, Stats, Identity,
                                                    BlockingRegistry, RdbPersistence, Role, Memory);
        Scripting = new ScriptingEngine(options, log, Loop, Commands, Processor, Registry, _stopping.Token);
        _listener = new ConnectionListener(options, log, Loop, Registry, Processor, Stats, Identity);
        ReplicationManager.Events = () => _listener.Events;
        _cron = new ServerCron(this);

        // The command families, in the order COMMAND and INFO commandstats list them.
        var persistenceCommands = new PersistenceCommands(RdbPersistence, Aof);
        var debugExtras = new Dictionary<string, CommandHandler>(StringComparer.OrdinalIgnoreCase) { ["reload"] = persistenceCommands.DebugSubcommand, ["loadaof"] = persistenceCommands.DebugSubcommand };
        Commands.Build(new Action<CommandTable>[]
        {
            ConnectionCommands.Register,
            StringCommands.Register,
            KeyCommands.Register,
            DatabaseCommands.Register,
            new ServerCommands(Commands, Registry, SlowLog, this).Register,
            new MemoryCommands(Memory, Registry, Stream, Keyspace).Register,
            new LatencyCommands(Latency, options, Commands).Register,
            new InfoCommand(options, Identity, Registry, Memory, Dataset, RdbPersistence, Aof, Stats, Keyspace, Loop, PubSubRegistry, ReplicationManager, Stream, Commands, Scripting, Processor.Eviction).Register,
            new ConfigCommands(log, Stream, ReplicationManager, Stats, Loop, Commands, Keyspace, Memory, Processor.Eviction).Register,
            new ClientCommands(Registry, Pause, log).Register,
            new DebugCommands(log, debugExtras).Register,
            persistenceCommands.Register,
            DumpCommands.Register,
            Migrate.Register,
            new ReplicationCommands(ReplicationManager, Stream, log, Role).Register,
            ListCommands.Register,
            new BlockingCommands(BlockingRegistry).Register,
            HashCommands.Register,
            SetCommands.Register,
            SortedSetCommands.Register,
            GeoCommands.Register,
            SortCommand.Register,
            new TransactionCommands(WatchRegistry, Processor).Register,
            new PubSubCommands(PubSubRegistry, Role).Register,
            HyperLogLogCommands.Register,
            Scripting.Register,
        }, options.RenamedCommands);

        // Wiring: who hears what.
        KeyspaceEvents = new KeyspaceEventRouter(propagation, notifier);
        Keyspace.Observer = KeyspaceEvents;
        KeyspaceEvents.AddListener(WatchRegistry);
        KeyspaceEvents.AddListener(BlockingRegistry);
        Registry.AddLifecycle(WatchRegistry);
        Registry.AddLifecycle(PubSubRegistry);
        Registry.AddLifecycle(BlockingRegistry);
        Registry.AddLifecycle(ReplicationManager);
        Registry.AddLifecycle(Scripting);
        Processor.AfterCommand = BlockingRegistry;
        Processor.MasterStream = ReplicationManager;
        Processor.Latency = Latency;
        Loop.Latency = Latency;
        RdbPersistence.History = ReplicationManager;
        Aof.History = ReplicationManager;
        Stream.Aof = Aof;
        ReplicationManager.Aof = Aof;
        // The loop's own extension points (beforeSleep): keyspace enter/exit, replication, output limits.
        Loop.AddEnterHook(Keyspace.EnterLoop);
        Loop.AddExitHook(Keyspace.ExitLoop);
        Loop.AddExitHook(ReplicationManager.BeforeSleep);
        // Replies wait for the log's write (group commit at each pass end of the event loop: ConnectionListener.StartAccepting).
        Loop.DurableLog = Aof;
        Loop.AddExitHook(Aof.RetryFailedWrite);
        // The replicas' flush, once per event-loop pass; with the log on, it leaves after the log's commit like every output.
        Loop.AddExitHook(ReplicationManager.FlushReplicasSoon);
        Loop.AddExitHook(Limiter.CloseClientsOverOutputLimit);
    }

    public ServerOptions Options { get; }

    public ServerLog Log { get; }

    /// <summary>Versions, run id, start time, bound port.</summary>
    public ServerIdentity Identity { get; } = new();

    /// <summary>Loading, and the last background save's failure: what the dispatcher refuses commands for.</summary>
    public DatasetState Dataset { get; } = new();

    /// <summary>The replication role as everything but Replication reads it.</summary>
    public ReplicationState Role { get; } = new();

    public CommandLoop Loop { get; }

    public Keyspace Keyspace { get; }

    /// <summary>Used memory, its peak, and giving memory back to the system.</summary>
    public MemoryMonitor Memory { get; }

    public ServerStats Stats { get; }

    public SlowLog SlowLog { get; }

    /// <summary>The latency monitor's samples (LATENCY), recorded by the dispatcher and the cron.</summary>
    public LatencyMonitor Latency { get; }

    /// <summary>The replication stream every executed write is appended to.</summary>
    public ReplicationStream Stream { get; }

    /// <summary>CLIENT PAUSE.</summary>
    public ClientPause Pause { get; }

    /// <summary>client-output-buffer-limit.</summary>
    public OutputLimiter Limiter { get; }

    /// <summary>Every client; tells the subsystems when one goes away.</summary>
    public ClientRegistry Registry { get; }

    public CommandTable Commands { get; }

    public CommandProcessor Processor { get; }

    /// <summary>The keyspace's events, routed to WATCH and blocked clients.</summary>
    public KeyspaceEventRouter KeyspaceEvents { get; }

    /// <summary>Channels, patterns and their subscribers.</summary>
    public PubSubRegistry PubSubRegistry { get; }

    /// <summary>WATCHed keys.</summary>
    public WatchRegistry WatchRegistry { get; }

    /// <summary>Clients blocked on list keys.</summary>
    public BlockingRegistry BlockingRegistry { get; }

    /// <summary>SAVE, BGSAVE, save points, loading.</summary>
    public RdbPersistence RdbPersistence { get; }

    /// <summary>The durable replication log (appendonly).</summary>
    public AppendOnlyFile Aof { get; }

    /// <summary>Replication in both roles: replicas of this server, and this server's link to its master.</summary>
    public ReplicationManager ReplicationManager { get; }

    /// <summary>EVAL and SCRIPT: the Lua state, the script cache, busy scripts.</summary>
    public ScriptingEngine Scripting { get; }

    /// <summary>MIGRATE, with its cached connections to targets.</summary>
    public MigrateCommand Migrate { get; } = new();

    /// <summary>Completes with the exit code once the server has shut down.</summary>
    public Task<int> Stopped => _stopped.Task;

    /// <summary>Signalled when shutdown begins.</summary>
    public CancellationToken StoppingToken => _stopping.Token;

    /// <summary>
    /// Binds the listeners (throws <see cref="ServerStartException"/> with the reason when one cannot be bound),
    /// loads the dump, starts replicating from the configured master, then the cron, then accepts connections.
    /// </summary>
    public async Task StartAsync()
    {
        await _listener.BindAsync().ConfigureAwait(false);
        AnnounceStartup();
        // Data is loaded before connections are accepted (they wait in the listen backlog meanwhile).
        // As redis-server: with appendonly yes the log is the data, and the dump is not read.
        if (Options.AppendOnly)
            Aof.LoadAtStartup();
        else
            RdbPersistence.LoadAtStartup();
        // The first BGSAVE or full sync must not compile the snapshot's code inside the loop.
        SnapshotWarmup.Start(Options.RdbCompression, [.. RdbPersistence.BgsaveMethods(), typeof(ReplicationManager).GetMethod(nameof(ReplicationManager.PointToSave))!]);
        // A BGSAVE hands its work to a waiting thread rather than starting one inside the loop.
        SnapshotThreads.Shared.Prestart();
        // Replication from the configured master (the slaveof directive) starts once listening.
        if (Options.SlaveOf is { } master)
            Loop.Run(() => ReplicationManager.BecomeReplicaOf(master.Host, master.Port));
        _cron.Start();
        Log.Notice("Ready to accept connections");
        _listener.StartAccepting();
    }

    private void AnnounceStartup()
    {
        string port = Options.Port.ToString(CultureInfo.InvariantCulture);
        // As redis-server 7: the banner when asked for (or on a terminal), else one line with the same facts.
        if (Options.AlwaysShowLogo || (Options.LogFile.Length == 0 && !Console.IsOutputRedirected))
        {
            Log.Notice("psyncd " + ServerIdentity.Version + " (Redis " + ServerIdentity.RedisVersion + " compatible) 64 bit");
            Log.Notice("Running in standalone mode");
            Log.Notice("Port: " + port);
            Log.Notice("PID: " + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            Log.Notice("Running mode=standalone, port=" + port + ".");
        }
        Log.Warning("Server initialized");
        if (Options.ProtectedMode && Options.RequirePass.Length == 0)
            Log.Notice("Protected mode is on and no password is set: only clients on 127.0.0.1, ::1 or the Unix socket are served. " +
                       "Set requirepass, or protected-mode no, to serve other hosts.");
        RdbPersistence.RemoveStaleTempFiles();
    }

    /// <summary>
    /// Shuts the server down as SHUTDOWN and SIGTERM/SIGINT do (inside the loop): saves first when
    /// <paramref name="save"/> says so, or when it is null and save points are configured; a failed save
    /// keeps the server running unless <paramref name="force"/>. Returns false when it keeps running.
    /// </summary>
    public bool Shutdown(bool? save, bool force, string reason)
    {
        Log.Warning(reason);
        if (!RdbPersistence.SaveOnShutdown(save) && !force)
        {
            Log.Warning("Errors trying to shut down the server. Check the logs for more information.");
            return false;
        }
        RequestShutdown(0);
        return true;
    }

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
        await _listener.StopAsync().ConfigureAwait(false);
        _cron.Stop();
        Loop.Run(() =>
        {
            Registry.CloseAllClients();
            Aof.Disable();
        });
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
        Loop.Run(Scripting.Dispose);
    }

    internal static StoreSettings StoreSettingsFrom(ServerOptions options)
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
