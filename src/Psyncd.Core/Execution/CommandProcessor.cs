using System.Diagnostics;
using System.Text;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Protocol;
using Psyncd.Rdb;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.Execution;

/// <summary>
/// Turns a client's input into executed commands (Redis's processInputBuffer, processCommand and call):
/// parses requests, applies the checks every command must pass, queues inside MULTI, runs the handler,
/// keeps statistics, and hands the command's effects to the replication stream. Runs inside the loop.
/// </summary>
public sealed class CommandProcessor
{
    private readonly ServerOptions _options;
    private readonly ServerLog _log;
    private readonly CommandTable _table;
    private readonly ClientRegistry _clients;
    private readonly ClientPause _pause;
    private readonly Keyspace _keyspace;
    private readonly ServerStats _stats;
    private readonly SlowLog _slowLog;
    private readonly DatasetState _dataset;
    private readonly ReplicationState _role;
    private readonly IEffectsSink _effects;

    /// <summary>The arguments of the command running now that hold secrets (bit i: argument i), for the slow log.</summary>
    private ulong _redacted;

    /// <summary>Argument <paramref name="index"/> of the running command is a secret: the slow log shows "(redacted)".</summary>
    internal void Redact(int index)
    {
        if (index < 64)
            _redacted |= 1UL << index;
    }

    /// <summary>Depth of EXEC running queued commands: their propagation is flushed when it ends.</summary>
    private int _execDepth;

    /// <summary>Transactions run so far (tells a failed EXEC from a failed command).</summary>
    private int _transactionsRun;

    /// <summary>Depth of script bodies running (their redis.call commands see the script's start time).</summary>
    private int _scriptDepth;

    /// <summary>
    /// While <see cref="ProcessInput"/> runs: the clock read when the previous command ended (UTC ticks), 0 before the
    /// first. The next command starts at it (its time, its duration), so that a pipelined command reads the clock once
    /// rather than three times: each read cost about 3% of a pipelined GET here (docs/performance.md). Redis 7 reads
    /// it twice per command (call()'s start and end).
    /// </summary>
    private long _inputClock;

    /// <summary>True while <see cref="ProcessInput"/> runs (commands may start at <see cref="_inputClock"/>).</summary>
    private bool _inInput;

    /// <summary>Set by a handler that suspended (a script past busy-reply-threshold): <see cref="Call"/> leaves its effects collected.</summary>
    private bool _callSuspended;

    public CommandProcessor(ServerOptions options, ServerLog log, CommandTable table, ClientRegistry clients, ClientPause pause,
        Keyspace keyspace, ServerStats stats, SlowLog slowLog, DatasetState dataset, MemoryMonitor memory,
        ReplicationState role, IEffectsSink effects, PropagationList propagation)
    {
        Propagation = propagation;
        _options = options;
        _log = log;
        _table = table;
        _clients = clients;
        _pause = pause;
        _keyspace = keyspace;
        _stats = stats;
        _slowLog = slowLog;
        _dataset = dataset;
        _role = role;
        _effects = effects;
        Eviction = new MemoryEviction(options, keyspace, memory, stats, role, propagation, effects, () => InExec);
    }

    /// <summary>maxmemory's evictions (run before each command; the cron and CONFIG SET maxmemory run them too).</summary>
    public MemoryEviction Eviction { get; }

    /// <summary>Replication's side of requests from replicas and from our master (set by the root once replication exists).</summary>
    public IMasterStream? MasterStream { get; set; }

    /// <summary>What the command (or transaction) being executed will propagate.</summary>
    public PropagationList Propagation { get; }

    /// <summary>True while EXEC runs its queued commands.</summary>
    public bool InExec => _execDepth > 0;

    /// <summary>
    /// True while a script that ran past busy-reply-threshold is suspended between two of its slices (Redis's
    /// "busy script"): every command but those flagged <see cref="CommandFlags.AllowBusy"/> is refused with
    /// -BUSY, our master's stream waits, and the effects the script collected stay in <see cref="Propagation"/>
    /// until it ends (<see cref="EndBusyScript"/>).
    /// </summary>
    public bool ScriptBusy { get; private set; }

    /// <summary>The buffers handlers reuse (<see cref="CommandContext.Scratch"/>).</summary>
    public CommandScratch Scratch { get; } = new();

    /// <summary>Work to do after every top-level command (serving clients blocked on keys); set by the root.</summary>
    public IAfterCommand? AfterCommand { get; set; }

    /// <summary>Where commands that reach <c>latency-monitor-threshold</c> are recorded ("command", "fast-command").</summary>
    public LatencyMonitor? Latency { get; set; }

    /// <summary>
    /// Executes every complete request at the start of <paramref name="input"/>; returns the bytes consumed.
    /// Stops early when the client blocks or is closing. After a protocol error the error is replied, the
    /// client is marked to close, and all input is consumed.
    /// </summary>
    public int ProcessInput(Client client, ReadOnlySpan<byte> input)
    {
        _inInput = true;
        _inputClock = 0;
        try
        {
            return ProcessRequests(client, input);
        }
        finally
        {
            _inInput = false;
        }
    }

    private int ProcessRequests(Client client, ReadOnlySpan<byte> input)
    {
        var parser = client.Parser;
        int offset = 0;
        while (offset < input.Length)
        {
            if ((client.Flags & (ClientFlags.Blocked | ClientFlags.CloseAsap | ClientFlags.CloseAfterReply)) != 0)
                break;
            if (_pause.ClientPauseEndMs != 0 && _pause.DeferWhilePaused(client))
                break;
            // A replica does not apply its master's stream while a script of its own is busy (as Redis 7.0):
            // the bytes wait in the link's buffer.
            if (ScriptBusy && client.Has(ClientFlags.Master))
                break;
            // AUTH may have succeeded in this very batch: the limits follow the client's state request by request.
            parser.Unauthenticated = !client.Authenticated && _options.RequirePass.Length > 0;
            // A master's stream is trusted: Redis exempts it from proto-max-bulk-len.
            parser.MaxBulkLength = client.Has(ClientFlags.Master) ? long.MaxValue : _options.ProtoMaxBulkLen;
            var status = parser.TryParse(input[offset..], out int consumed);
            if (status == ParseStatus.Incomplete)
                break;
            if (status == ParseStatus.Error)
            {
                client.Output.WriteError("ERR " + parser.Error);
                client.Flags |= ClientFlags.CloseAfterReply;
                _log.Verbose("Protocol error (" + parser.Error + ") from client: " + client.Describe());
                return input.Length;
            }
            var request = input.Slice(offset, consumed);
            offset += consumed;
            client.LastInteractionMs = Environment.TickCount64;
            if (parser.Args.Length == 0)
            {
                MasterStream?.Keepalive(client);
                continue;
            }
            var args = parser.LastWasInline ? new CommandArgs(parser.InlineBuffer, parser.Args) : new CommandArgs(request, parser.Args);
            Execute(client, args, parser.LastWasInline ? default : request);
            if (client.Has(ClientFlags.Master))
            {
                if (client.Output.LastError is { } error)
                {
                    // A replica must apply everything its master sends: a command that failed here means
                    // the datasets may now differ. Never silent.
                    // A stream command first gets a line of its own that says why and which key differs; the
                    // CRITICAL line follows as for any command (as redis-server logs it).
                    if (IsStreamCommand(args) && error.StartsWith("ERR unknown command", StringComparison.Ordinal))
                        _log.Warning("Stream command " + Encoding.ASCII.GetString(args[0]).ToUpperInvariant() + " from the master not applied: psyncd has no stream type; key '" + Encoding.UTF8.GetString(StreamKey(args)) + "' now differs from the master's");
                    _log.Warning("== CRITICAL == This replica is sending an error to its master: '" + error + "' after processing the command '" + Encoding.UTF8.GetString(parser.LastWasInline ? default : request[..Math.Min(request.Length, 128)]) + "'");
                    client.Output.LastError = null;
                }
                MasterStream?.OnMasterRequestApplied(client, request);
            }
        }
        return offset;
    }

    /// <summary>
    /// The stream commands a Redis 5+ master propagates. psyncd has no stream type, so from its master they
    /// get a log line of their own naming the key that now differs (a stream in a full sync's payload is
    /// refused by the RDB reader).
    /// </summary>
    private static bool IsStreamCommand(in CommandArgs args)
    {
        var name = args[0];
        return args.Count >= 2 && name.Length >= 4 && (name[0] | 0x20) == 'x'
            && (Keyword.Is(name, "XADD"u8) || Keyword.Is(name, "XDEL"u8) || Keyword.Is(name, "XTRIM"u8) || Keyword.Is(name, "XSETID"u8)
                || Keyword.Is(name, "XGROUP"u8) || Keyword.Is(name, "XACK"u8) || Keyword.Is(name, "XCLAIM"u8) || Keyword.Is(name, "XAUTOCLAIM"u8));
    }

    /// <summary>The key of a stream command: after XGROUP's subcommand, else the first argument.</summary>
    private static ReadOnlySpan<byte> StreamKey(in CommandArgs args)
        => Keyword.Is(args[0], "XGROUP"u8) && args.Count >= 3 ? args[2] : args[1];

    /// <summary>The checks of Redis's processCommand, then the command (or its queuing inside MULTI).</summary>
    public void Execute(Client client, in CommandArgs args, ReadOnlySpan<byte> raw)
    {
        var ctx = client.Context!;
        var reply = client.Output;
        var cmd = _table.Find(args[0]);
        if (cmd is null)
        {
            RejectInMulti(client);
            reply.WriteError(ErrorReplies.UnknownCommand(ErrorReplies.CText(args[0], 128), ArgStrings(args)));
            return;
        }
        ctx.Command = cmd;
        if (!cmd.AcceptsArgCount(args.Count))
        {
            RejectInMulti(client);
            reply.WriteError(ErrorReplies.WrongArgCount(cmd.Name));
            return;
        }
        if (cmd.Subcommands is not null && args.Count >= 2)
        {
            // Redis 7 resolves a container's subcommand before anything else: an unknown one or a wrong
            // count is refused at once (and fails the transaction), never queued.
            if (!cmd.TryFindSubcommand(args[1], out var sub))
            {
                RejectInMulti(client);
                reply.WriteError(ErrorReplies.UnknownSubcommand(args[1], cmd.Name.ToUpperInvariant()));
                return;
            }
            if (sub.Arity >= 0 ? args.Count != sub.Arity : args.Count < -sub.Arity)
            {
                RejectInMulti(client);
                reply.WriteError(ErrorReplies.WrongArgCount(cmd.Name + "|" + sub.Name));
                return;
            }
        }
        // Before authentication, as in Redis 7: the refusal says how to enable DEBUG, nothing more.
        if (cmd.Has(CommandFlags.Protected) && !client.MayUse(_options.EnableDebugCommand))
        {
            RejectInMulti(client);
            reply.WriteError(ErrorReplies.DebugNotAllowed);
            return;
        }
        if (!client.Authenticated && !cmd.Has(CommandFlags.NoAuth) && _options.RequirePass.Length > 0)
        {
            RejectInMulti(client);
            reply.WriteError(ErrorReplies.NoAuth);
            return;
        }
        bool fromMaster = client.Has(ClientFlags.Master);
        if (!fromMaster)
        {
            var refusal = CheckAllowed(client, cmd, args);
            if (!refusal.IsEmpty)
            {
                RejectInMulti(client);
                reply.WriteError(refusal);
                return;
            }
        }
        // Subscribed mode limits only RESP2 clients: under RESP3 messages are pushes, told apart from replies.
        if (client.SubscriptionCount > 0 && !client.Output.Resp3 && !cmd.Has(CommandFlags.AllowedWhileSubscribed))
        {
            reply.WriteError("ERR Can't execute '" + cmd.Name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context");
            return;
        }
        if (ScriptBusy && !AllowedWhileBusy(cmd, args))
        {
            RejectInMulti(client);
            reply.WriteError(ErrorReplies.BusyScript);
            return;
        }
        if (client.MultiQueue is not null && cmd.Has(CommandFlags.NoMulti))
        {
            RejectInMulti(client);
            reply.WriteError("ERR Command not allowed inside a transaction"u8);
            return;
        }
        if (client.MultiQueue is not null && !cmd.Has(CommandFlags.NotQueued))
        {
            client.MultiQueue.Add(new QueuedCommand(cmd, args.ToArrays()));
            reply.WriteSimpleString("QUEUED"u8);
            return;
        }
        Call(ctx, cmd, args, raw);
        if (_execDepth == 0 && !ScriptBusy)
        {
            AfterCommand?.AfterCommand();
        }
    }

    /// <summary>
    /// What a busy script lets through: the commands Redis 7.0 flags allow-busy, except SHUTDOWN without
    /// NOSAVE (it would save a dataset the script is half-way through) and SCRIPT's other subcommands.
    /// </summary>
    private static bool AllowedWhileBusy(CommandDescriptor cmd, in CommandArgs args)
    {
        if (!cmd.Has(CommandFlags.AllowBusy))
            return false;
        if (cmd.Name == "shutdown")
        {
            for (int i = 1; i < args.Count; i++)
            {
                if (Psyncd.Text.Keyword.Is(args[i], "nosave"u8))
                    return true;
            }
            return false;
        }
        if (cmd.Name == "script")
            return args.Count == 2 && Psyncd.Text.Keyword.Is(args[1], "kill"u8);
        return true;
    }

    /// <summary>
    /// Runs one command (Redis's call()): MONITOR feed, the handler, statistics, slow log, propagation.
    /// <paramref name="raw"/> is the request as received when it was a multibulk (propagated as is).
    /// </summary>
    public void Call(CommandContext ctx, CommandDescriptor cmd, in CommandArgs args, ReadOnlySpan<byte> raw)
    {
        var client = ctx.Client;
        var keyspace = _keyspace;
        ctx.Command = cmd;
        // MONITOR shows a command once it has run (Redis 7.0's call()): in the database it left the client in, with
        // the arguments it redacted; a script command before its script's commands.
        bool feedMonitors = _clients.Monitors.Count > 0 && !cmd.Has(CommandFlags.SkipMonitor) && !cmd.Has(CommandFlags.Admin);
        if (feedMonitors && cmd.Has(CommandFlags.MonitorFirst))
        {
            _clients.FeedMonitors(client, args, redacted: 0);
            feedMonitors = false;
        }

        bool fromMaster = client.Has(ClientFlags.Master);
        int db = client.Db;
        long dirtyBefore = keyspace.Dirty;
        Propagation.BeginCommand();
        long start = _inputClock != 0 ? _inputClock : DateTime.UtcNow.Ticks;
        // A script's commands all see the time it started at (Redis 7.0), so that a key cannot expire half-way.
        if (_scriptDepth == 0)
            keyspace.SetTime(start);
        keyspace.ExpiryMode = fromMaster ? ExpiryMode.Ignore : _role.IsReplica ? ExpiryMode.Hide : ExpiryMode.Delete;
        client.LastCommand = cmd.Name;
        long replyMark = client.Output.BytesWritten;
        var propagationMark = Propagation.Mark();
        int transactionsBefore = _transactionsRun;
        Exception? failure = null;
        ulong redactedByCaller = _redacted;
        _redacted = 0;
        keyspace.BeginJournal();
        try
        {
            cmd.Handler(ctx, args);
        }
        catch (Exception e)
        {
            failure = e;
        }
        finally
        {
            keyspace.EndJournal();
        }
        if (failure is not null)
            OnHandlerFailed(ctx, cmd, args, failure, replyMark, propagationMark, _transactionsRun != transactionsBefore);
        long end = DateTime.UtcNow.Ticks;
        if (_inInput)
            _inputClock = end;
        // A wall clock set back makes the difference negative: count it as no time.
        long micros = Math.Max(0, end - start) / (TimeSpan.TicksPerMillisecond / 1000);
        cmd.Calls++;
        cmd.Microseconds += micros;
        if (_options.LatencyTracking)
        {
            // A command that blocked is recorded when its wait ends (BlockingRegistry.Unblock), as in Redis 7.0.
            if (client.Has(ClientFlags.Blocked) && client.BlockedOn is { } blocked)
                blocked.PendingLatency = (cmd, micros);
            else
                cmd.RecordLatency(args, micros);
        }
        _stats.TotalCommandsProcessed++;
        if (_slowLog.IsEnabled && !cmd.Has(CommandFlags.SkipSlowlog))
            _slowLog.Record(client.Address, client.Name, args, micros, _redacted);
        if (feedMonitors)
            _clients.FeedMonitors(client, args, _redacted);
        _redacted = redactedByCaller;
        if (_options.LatencyMonitorThreshold > 0)
            Latency?.AddSampleIfNeeded(cmd.Has(CommandFlags.Fast) ? "fast-command" : "command", micros / 1000);

        if (_callSuspended)
        {
            // The script goes on later (EndBusyScript propagates what it did, as one unit).
            _callSuspended = false;
            return;
        }
        if (fromMaster || _role.IsReplica)
        {
            // A replica forwards its master's bytes verbatim (see OnMasterRequestApplied); its own
            // propagation is off, and nothing it collected is kept. A writable replica's own writes are
            // local, as since Redis 4.0: in its stream they would shift every offset down the chain.
            Propagation.Clear();
            return;
        }
        bool changed = keyspace.Dirty != dirtyBefore;
        if ((changed || cmd.Has(CommandFlags.AlwaysPropagate)) && !cmd.Has(CommandFlags.NoPropagate) && !Propagation.RequestReplaced)
        {
            if (raw.IsEmpty)
                Propagation.AddArgs(db, args);
            else
                Propagation.AddEncoded(db, raw);
        }
        if (_execDepth == 0)
            Propagation.FlushTo(_effects, wrap: !cmd.Has(CommandFlags.TouchesArbitraryKeys));
        client.ReplicationOffset = _effects.MasterReplOffset;
    }

    /// <summary>Runs a command a script called (redis.call): as inside EXEC, its effects wait for the script's end.</summary>
    public void CallFromScript(CommandContext ctx, CommandDescriptor cmd, in CommandArgs args)
    {
        _execDepth++;
        _scriptDepth++;
        try
        {
            Call(ctx, cmd, args, default);
        }
        finally
        {
            _scriptDepth--;
            _execDepth--;
        }
    }

    /// <summary>True while a script body runs (a slice of it): the script's own commands are inside EXEC-like depth.</summary>
    public bool InScript => _scriptDepth > 0;

    /// <summary>Marks a script slice as running: commands it calls must not flush or refresh the time.</summary>
    public void EnterScript()
    {
        _execDepth++;
        _scriptDepth++;
    }

    public void ExitScript()
    {
        _scriptDepth--;
        _execDepth--;
    }

    /// <summary>
    /// The handler running now (EVAL) suspended its script past busy-reply-threshold: the client waits
    /// (blocked) for the reply, and the server is busy until <see cref="EndBusyScript"/>.
    /// </summary>
    public void BeginBusyScript(Client client)
    {
        _callSuspended = true;
        ScriptBusy = true;
        client.Flags |= ClientFlags.Blocked;
    }

    /// <summary>
    /// The busy script ended (its reply is written): its effects go to the stream as one unit, clients a write
    /// of it unblocked are served, and the caller's pending input is processed again.
    /// </summary>
    public void EndBusyScript(Client client, bool resume)
    {
        ScriptBusy = false;
        if (client.Has(ClientFlags.Master) || _role.IsReplica)
            Propagation.Clear();
        else
            Propagation.FlushTo(_effects, wrap: true);
        client.ReplicationOffset = _effects.MasterReplOffset;
        AfterCommand?.AfterCommand();
        client.Flags &= ~ClientFlags.Blocked;
        if (!resume)
            return;
        client.Output.RequestFlush();
        // Not inline: resuming runs the client's receive continuation, which must not nest in this pass.
        client.Connection?.Resume();
    }

    /// <summary>
    /// EXEC: runs the queued commands as one unit. Their propagation is collected and written at the end,
    /// wrapped in MULTI/EXEC when more than one command changed something (Redis 7's rule).
    /// </summary>
    public void RunTransaction(CommandContext ctx, List<QueuedCommand> queue, Action<int> beforeEach)
    {
        _transactionsRun++;
        _execDepth++;
        try
        {
            for (int i = 0; i < queue.Count; i++)
            {
                beforeEach(i);
                var queued = queue[i];
                Call(ctx, queued.Command, queued.ToArgs(), default);
            }
        }
        finally
        {
            _execDepth--;
        }
        if (_execDepth == 0)
        {
            Propagation.FlushTo(_effects, wrap: true);
            AfterCommand?.AfterCommand();
        }
    }

    /// <summary>
    /// The last line of defence when a handler throws. Handlers validate everything before they change
    /// anything, so this is either a full store refusing a write (OOM) or a bug; either way the command may
    /// have changed part of what it meant to, and nothing can undo that. What must hold regardless:
    /// <list type="bullet">
    /// <item>the client gets exactly one reply for this command (an error) and keeps its connection and
    /// the replies queued before it; inside EXEC the following commands still run, as Redis runs the rest
    /// of a transaction after a runtime error;</item>
    /// <item>replicas end up with exactly what this server now holds. Guaranteeing that nothing is applied
    /// before a failure is impossible for an exception nobody foresaw, so the failed command propagates
    /// what it applied instead: what it collected for the stream is dropped, and each key it may have
    /// changed (the keyspace's journal: a superset) is sent as its current state, <c>DEL</c> then
    /// <c>RESTORE</c> (and <c>PEXPIREAT</c>) of a DUMP payload, which every Redis since 2.6 applies. For a
    /// key that did not change, that is a no-op on a replica in step.</item>
    /// </list>
    /// </summary>
    private void OnHandlerFailed(CommandContext ctx, CommandDescriptor cmd, in CommandArgs args, Exception failure,
        long replyMark, (int Items, long Bytes) propagationMark, bool ranTransaction)
    {
        var client = ctx.Client;
        var output = client.Output;
        bool storeFull = failure is StoreFullException;
        // A reply the handler started must not be followed by an error that the client would read as part
        // of it: taken back when it is still in the output; else the client's stream is broken past repair.
        bool rewound = output.TryRewind(replyMark);
        if (storeFull)
        {
            output.WriteError(ErrorReplies.Oom);
            _log.Warning("Write refused: the record log is full (store-log-memory " + _options.StoreLogMemory + "); command " + cmd.Name);
        }
        else
        {
            output.WriteError("ERR internal error executing '" + cmd.Name + "' (" + failure.GetType().Name + "); see the server log");
            _log.Warning("== BUG == Unexpected exception executing '" + cmd.Name + "' with " + (args.Count - 1) + " argument(s) for client "
                + client.Describe() + (rewound ? "" : " (its partial reply could not be taken back: closing it)") + ": " + failure);
        }
        if (!rewound && !client.Has(ClientFlags.Master))
            client.Flags |= ClientFlags.CloseAfterReply;

        // EXEC's own failure: what it collected describes the queued commands it ran, each of which
        // already recovered on its own.
        if (ranTransaction || client.Has(ClientFlags.Master))
            return;
        var keyspace = _keyspace;
        Propagation.TruncateTo(propagationMark);
        Propagation.ReplaceRequest();
        if (keyspace.JournalOverflowed)
        {
            _log.Warning("== CRITICAL == The failed command '" + cmd.Name + "' may have changed more keys than can be sent to replicas one by one: they may now differ from this server");
            return;
        }
        foreach (var (db, key) in keyspace.JournaledKeys())
            PropagateKeyState(db, key);
    }

    /// <summary>Sends a key's current state to the stream: DEL, then RESTORE and PEXPIREAT when it exists.</summary>
    private void PropagateKeyState(int db, byte[] key)
    {
        var keyspace = _keyspace;
        if (keyspace.Peek(db, key).Object is { Count: 0 })
        {
            // A collection left empty half-way: empty collections are never stored.
            keyspace.Delete(db, key);
        }
        // Whatever changed, WATCH and blocked clients must hear of it (the handler may not have said so).
        keyspace.Modified(db, key, 0);
        var entry = keyspace.Peek(db, key);
        var w = Propagation.Add(db, 2, replacesRequest: true);
        w.WriteBulk("DEL"u8);
        w.WriteBulk(key);
        if (!entry.Exists)
            return;
        long expireAt = entry.ExpireAt;
        var payload = DumpFormat.Write(entry, _options.RdbCompression);
        w = Propagation.Add(db, 4, replacesRequest: true);
        w.WriteBulk("RESTORE"u8);
        w.WriteBulk(key);
        w.WriteBulk("0"u8);
        w.WriteBulk(payload.Written);
        if (expireAt >= 0)
        {
            w = Propagation.Add(db, 3, replacesRequest: true);
            w.WriteBulk("PEXPIREAT"u8);
            w.WriteBulk(key);
            w.WriteBulk(expireAt);
        }
    }

    /// <summary>
    /// The refusals of Redis's processCommand that depend on server state, for a command not sent by our
    /// master. Returns the error text, or null to let the command run. Cheap when nothing is wrong.
    /// </summary>
    /// <summary>The error the command is refused with in the server's present state (loading, memory, a failed save, replication), or empty.</summary>
    public ReadOnlySpan<byte> CheckAllowed(Client client, CommandDescriptor cmd, scoped in CommandArgs args)
    {
        if (_dataset.Loading && !cmd.Has(CommandFlags.Loading))
            return ErrorReplies.Loading;
        bool write = cmd.Has(CommandFlags.Write);
        // As Redis's processCommand, every command first evicts what maxmemory asks; only those that may add
        // data are refused when that is not enough.
        bool outOfMemory = _options.MaxMemory > 0 && !Eviction.Perform();
        if (cmd.Has(CommandFlags.DenyOom))
        {
            if (outOfMemory)
                return ErrorReplies.Oom;
            long estimate = 64L * args.Count;
            for (int i = 1; i < args.Count; i++)
                estimate += args[i].Length;
            if (!_keyspace.PrepareForWrite(estimate))
                return ErrorReplies.Oom;
        }
        if (_dataset.LastBgsaveFailed && _options.StopWritesOnBgsaveError && _options.Save.Count > 0 && !_role.IsReplica
            && (write || cmd.Name == "ping"))
            return ErrorReplies.Misconf;
        if (write && !_role.IsReplica && _options.MinSlavesToWrite > 0 && _options.MinSlavesMaxLag > 0 && _role.GoodReplicaCount < _options.MinSlavesToWrite)
            return ErrorReplies.NoReplicas;
        if (_role.IsReplica)
        {
            if (write && _options.SlaveReadOnly)
                return ErrorReplies.ReadOnlyReplica;
            if (!_role.MasterLinkUp && !_options.SlaveServeStaleData && !cmd.Has(CommandFlags.Stale))
                return ErrorReplies.MasterDown;
        }
        return default;
    }

    /// <summary>A command refused inside MULTI makes EXEC fail (Redis's flagTransaction).</summary>
    private static void RejectInMulti(Client client)
    {
        if (client.MultiQueue is not null)
            client.Flags |= ClientFlags.DirtyExec;
    }

    private static IEnumerable<string> ArgStrings(CommandArgs args)
    {
        // UnknownCommand stops once its list reaches 128 characters; each argument adds at least 3.
        var list = new List<string>(Math.Min(args.Count, 8));
        for (int i = 1; i < args.Count && i <= 43; i++)
            list.Add(ErrorReplies.CText(args[i], 128));
        return list;
    }
}
