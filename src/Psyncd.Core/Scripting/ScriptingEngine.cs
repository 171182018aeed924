using System.Diagnostics;
using System.Text;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Text;
using static Psyncd.Scripting.LuaNative;

namespace Psyncd.Scripting;

// Why this file is long: it is the one place where a running script's state lives (caller, flags, busy
// slices, redis.call's reused buffers), and the code that reads it comes in three parts that each need
// all of it: the EVAL family and SCRIPT, the busy-script protocol, and redis.call with the two conversions
// (Lua to reply, reply to Lua), which follow Redis's luaReplyToRedisReply / redisProtocolToLuaType.

/// <summary>
/// Lua scripting as Redis 7.0 has it: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT, the redis.* calls
/// into the server, the conversions between Lua values and replies, and the busy-script protocol.
/// </summary>
/// <remarks>
/// <para>
/// Effects, not scripts, are replicated (Redis 5+): each command a script calls collects its effects in the
/// processor's <see cref="PropagationList"/> (the dispatcher's one propagation point), and the script's
/// end writes them as one unit, wrapped in MULTI/EXEC when there are several. A script that wrote
/// nothing propagates nothing; SCRIPT LOAD and FLUSH are not propagated (7.0 neither).
/// </para>
/// <para>
/// Busy scripts. Redis serves SCRIPT KILL and SHUTDOWN NOSAVE while a script runs past
/// <c>busy-reply-threshold</c> by processing events from inside the script's hook. In psyncd every socket is
/// read by one thread that also runs the commands (see <see cref="CommandLoop"/>): a script holding that
/// thread would leave every other connection unread. So a script runs as a Lua coroutine, and when it
/// passes the threshold the count hook yields it: the EVAL handler returns without a reply, the client is
/// blocked, the processor enters its busy state (everything else answered -BUSY, effects kept), and the
/// socket thread leaves the loop to serve the others. A thread of the engine then resumes the coroutine in
/// slices of <see cref="SliceMs"/> inside the loop, leaving the loop between slices so that connections
/// are served; SCRIPT KILL is seen at the next slice. When the script ends, its reply is written and the
/// processor propagates its effects and unblocks the client. Inside MULTI/EXEC or from our master a script
/// is never suspended (they cannot be left half-way), so it runs to its end there.
/// </para>
/// </remarks>
public sealed class ScriptingEngine : IScriptHost, IClientLifecycle, IDisposable
{
    /// <summary>How long a busy script runs before it lets the loop serve connections again.</summary>
    private const int SliceMs = 10;

    private readonly ServerOptions _options;
    private readonly ServerLog _log;
    private readonly CommandLoop _loop;
    private readonly CommandTable _table;
    private readonly CommandProcessor _processor;
    private readonly CancellationToken _stopping;
    private readonly Client _luaClient;
    private readonly ClientOutput _luaOutput;
    private readonly ScriptCache _cache = new();
    private LuaRuntime _lua;

    // The running script (one at a time: scripts run inside the loop).
    private Client? _caller;
    private string _sha = "";
    private bool _readOnly;
    private bool _wrote;
    private int _replFlags;
    private bool _yieldAllowed;
    private long _startTicks;
    private long _sliceStartTicks;

    // A busy (suspended) script.
    private bool _busy;
    private volatile bool _killRequested;
    private bool _callerGone;

    // Arguments of redis.call, reused (commands run one at a time and never keep them).
    private byte[] _argBuffer = new byte[256];
    private ArgSlice[] _argSlices = new ArgSlice[16];
    private readonly byte[] _numberScratch = new byte[32];

    internal ScriptingEngine(ServerOptions options, ServerLog log, CommandLoop loop, CommandTable table, CommandProcessor processor,
        ClientRegistry clients, CancellationToken stopping)
    {
        _options = options;
        _log = log;
        _loop = loop;
        _table = table;
        _processor = processor;
        _stopping = stopping;
        _luaOutput = ClientOutput.ForCapture(loop);
        _luaClient = new Client(_luaOutput, null, null) { Authenticated = true, Flags = ClientFlags.Script };
        clients.AttachContext(_luaClient);
        _lua = new LuaRuntime(this);
    }

    /// <summary>INFO: bytes of the Lua state (used_memory_lua).</summary>
    public long LuaMemory => _lua.UsedBytes;

    /// <summary>INFO: bytes the cached script bodies take (used_memory_scripts_eval).</summary>
    public long ScriptsMemory => _cache.Bytes;

    /// <summary>INFO: number_of_cached_scripts.</summary>
    public int CachedScripts => _cache.Count;

    /// <summary>True while a script runs past busy-reply-threshold (INFO's busy state).</summary>
    public bool Busy => _busy;

    public void Register(CommandTable table)
    {
        // Redis 7.0's flags: noscript, stale (a script may read on a stale replica), and the effects
        // propagate instead of the request.
        const CommandFlags eval = CommandFlags.NoScript | CommandFlags.Stale | CommandFlags.NoPropagate | CommandFlags.MonitorFirst;
        table.Add("eval", -3, eval, Eval);
        table.Add("evalsha", -3, eval, EvalSha);
        table.Add("eval_ro", -3, eval | CommandFlags.ReadOnly, EvalRo);
        table.Add("evalsha_ro", -3, eval | CommandFlags.ReadOnly, EvalShaRo);
        table.Add("script", -2, CommandFlags.NoScript | CommandFlags.AllowBusy | CommandFlags.Stale, Script);
        table.AddSubcommands("script", ("help", 2), ("flush", -2), ("kill", 2), ("debug", 3), ("exists", -3), ("load", 3));
    }

    public void Dispose() => _lua.Dispose();

    void IClientLifecycle.ClientRemoved(Client client)
    {
        if (client == _caller)
            _callerGone = true;
    }

    // ------------------------------------------------------------------
    // EVAL family
    // ------------------------------------------------------------------

    private static ReadOnlySpan<byte> NoScript => "NOSCRIPT No matching script. Please use EVAL."u8;

    private void Eval(CommandContext ctx, in CommandArgs args) => EvalGeneric(ctx, args, bySha: false, readOnlyCommand: false);

    private void EvalSha(CommandContext ctx, in CommandArgs args) => EvalGeneric(ctx, args, bySha: true, readOnlyCommand: false);

    private void EvalRo(CommandContext ctx, in CommandArgs args) => EvalGeneric(ctx, args, bySha: false, readOnlyCommand: true);

    private void EvalShaRo(CommandContext ctx, in CommandArgs args) => EvalGeneric(ctx, args, bySha: true, readOnlyCommand: true);

    private void EvalGeneric(CommandContext ctx, in CommandArgs args, bool bySha, bool readOnlyCommand)
    {
        // EVALSHA refuses a digest that is not 40 characters before it reads anything else (7.0).
        if (bySha && args[1].Length != 40)
        {
            ctx.Reply.WriteError(NoScript);
            return;
        }
        if (!Numbers.TryParseInt64(args[2], out long keyCount))
        {
            ctx.NotInteger();
            return;
        }
        if (keyCount > args.Count - 3)
        {
            ctx.Reply.WriteError("ERR Number of keys can't be greater than number of args"u8);
            return;
        }
        if (keyCount < 0)
        {
            ctx.Reply.WriteError("ERR Number of keys can't be negative"u8);
            return;
        }
        string sha;
        CachedScript? script;
        if (bySha)
        {
            sha = Encoding.ASCII.GetString(args[1]).ToLowerInvariant();
            if (!_cache.TryGet(sha, out script!))
            {
                ctx.Reply.WriteError(NoScript);
                return;
            }
        }
        else
        {
            script = CompileAndCache(ctx, args[1], out sha);
            if (script is null)
                return;
        }
        if (!CheckFlags(ctx, script.Flags, readOnlyCommand))
            return;

        var client = ctx.Client;
        _caller = client;
        _callerGone = false;
        _sha = sha;
        _readOnly = readOnlyCommand || (script.Flags & ScriptFlags.NoWrites) != 0;
        _wrote = false;
        _replFlags = 3;
        // Every script starts speaking RESP2 to the server (redis.setresp changes it for the rest of the run).
        _luaOutput.Resp3 = false;
        _killRequested = false;
        // A script can be suspended only where the command can be finished later: not inside EXEC, not
        // for our master (its stream must be applied in order), not while loading.
        _yieldAllowed = !ctx.InExec && !client.Has(ClientFlags.Master) && client.Connection is not null;
        _luaClient.Db = client.Db;
        _startTicks = Stopwatch.GetTimestamp();
        _sliceStartTicks = _startTicks;

        _processor.EnterScript();
        int status;
        try
        {
            status = _lua.Start(sha, args, 3, (int)keyCount);
        }
        finally
        {
            _processor.ExitScript();
        }
        if (status == Yield)
        {
            BecomeBusy(client);
            return;
        }
        Finish(status, client.Output);
    }

    /// <summary>Finds or compiles the script; null after replying the compiler's error.</summary>
    private CachedScript? CompileAndCache(CommandContext ctx, ReadOnlySpan<byte> body, out string sha)
    {
        sha = ScriptCache.Sha1Hex(body);
        if (_cache.TryGet(sha, out var cached))
            return cached;
        if (!ScriptCache.TryParseShebang(body, out var flags, out int codeStart, out var shebangError))
        {
            ctx.Reply.WriteError(shebangError!);
            return null;
        }
        // The shebang line is left out but its line break kept, so that line numbers stay the body's.
        var error = _lua.Compile(sha, body[codeStart..]);
        if (error is not null)
        {
            ctx.Reply.WriteError("ERR Error compiling script (new function): " + error);
            return null;
        }
        var script = new CachedScript(body.ToArray(), flags);
        _cache.Add(sha, script);
        return script;
    }

    /// <summary>Redis 7.0's checks of a script's declared flags before it runs; false after replying the refusal.</summary>
    private bool CheckFlags(CommandContext ctx, ScriptFlags flags, bool readOnlyCommand)
    {
        if ((flags & ScriptFlags.Shebang) == 0)
            return true;
        bool mayWrite = (flags & ScriptFlags.NoWrites) == 0;
        if (readOnlyCommand && mayWrite)
        {
            ctx.Reply.WriteError("ERR Can not execute a script with write flag using *_ro command."u8);
            return false;
        }
        if (!mayWrite)
            return true;
        // A script that may write is refused up front where a write would be (replica, MISCONF, OOM...).
        var probe = _table.Find("set")!;
        var refusal = _processor.CheckAllowed(ctx.Client, probe, default);
        if (!refusal.IsEmpty && ((flags & ScriptFlags.AllowOom) == 0 || !refusal.SequenceEqual(ErrorReplies.Oom)))
        {
            ctx.Reply.WriteError(refusal);
            return false;
        }
        return true;
    }

    private void BecomeBusy(Client client)
    {
        _busy = true;
        long elapsed = ElapsedMs(_startTicks);
        _log.Warning("Slow script detected: still in execution after " + elapsed + " milliseconds. You can try killing the script using the SCRIPT KILL command. Script name is: " + _sha + ".");
        _processor.BeginBusyScript(client);
        var thread = new Thread(RunBusyScript) { IsBackground = true, Name = "psyncd busy script" };
        thread.Start();
    }

    /// <summary>Resumes the suspended script slice by slice until it ends, is killed, or the server stops.</summary>
    private void RunBusyScript()
    {
        while (true)
        {
            // Between slices the loop is free: the socket thread answers -BUSY, SCRIPT KILL, SHUTDOWN NOSAVE.
            // A lock is not fair, so the slice waits a little before taking it again.
            Thread.Sleep(1);
            _loop.Enter();
            try
            {
                if (_stopping.IsCancellationRequested)
                {
                    _lua.EndRun();
                    _busy = false;
                    _processor.Propagation.Clear();
                    return;
                }
                var caller = _caller!;
                int status;
                if (_killRequested)
                {
                    _log.Warning("Lua script killed by user with SCRIPT KILL.");
                    var (_, source, line) = _lua.DescribeError();
                    WriteScriptError(caller.Output, "ERR Script killed by user with SCRIPT KILL...", source, line);
                    _lua.EndRun();
                    status = Ok;
                }
                else
                {
                    _sliceStartTicks = Stopwatch.GetTimestamp();
                    _processor.EnterScript();
                    try
                    {
                        status = _lua.Resume();
                    }
                    finally
                    {
                        _processor.ExitScript();
                    }
                    if (status == Yield)
                        continue;
                    Finish(status, caller.Output);
                }
                _busy = false;
                _processor.EndBusyScript(caller, resume: !_callerGone);
                return;
            }
            catch (Exception e)
            {
                _log.Warning("== BUG == Unexpected error running a busy script: " + e);
                _lua.EndRun();
                _busy = false;
                _processor.EndBusyScript(_caller!, resume: !_callerGone);
                return;
            }
            finally
            {
                _loop.Exit();
            }
        }
    }

    /// <summary>Writes the reply of a script that ended (its value, or its error) and forgets it.</summary>
    private void Finish(int status, ReplyWriter reply)
    {
        try
        {
            var co = _lua.Running;
            if (status == Ok)
            {
                WriteLuaValue(co, -1, reply, 0, _luaOutput.Resp3);
            }
            else
            {
                var (message, source, line) = _lua.DescribeError();
                WriteScriptError(reply, message, source, line);
            }
        }
        finally
        {
            _lua.EndRun();
        }
    }

    private void WriteScriptError(ReplyWriter reply, string message, string? source, long line)
    {
        string text = source is null
            ? message + " script: " + _sha
            : message + " script: " + _sha + ", on " + source + ":" + line.ToString(System.Globalization.CultureInfo.InvariantCulture) + ".";
        reply.WriteError(text.Replace('\r', ' ').Replace('\n', ' '));
    }

    // ------------------------------------------------------------------
    // Lua -> RESP
    // ------------------------------------------------------------------

    /// <summary>Writes the Lua value at <paramref name="idx"/> as Redis converts a script's result.</summary>
    private static void WriteLuaValue(nint L, int idx, ReplyWriter reply, int depth, bool resp3)
    {
        idx = AbsIndex(L, idx);
        switch (lua_type(L, idx))
        {
            case TString:
                reply.WriteBulk(ToBytes(L, idx));
                return;
            case TBoolean:
                // A script speaking RESP3 returns booleans; under RESP2 false is nil, as Redis 7.0 converts.
                if (resp3)
                    reply.WriteBoolean(lua_toboolean(L, idx) != 0);
                else if (lua_toboolean(L, idx) != 0)
                    reply.WriteInteger(1);
                else
                    reply.WriteNullBulk();
                return;
            case TNumber:
                reply.WriteInteger(lua_isinteger(L, idx) != 0 ? lua_tointegerx(L, idx, out _) : CastToInt64(lua_tonumberx(L, idx, out _)));
                return;
            case TTable:
                WriteLuaTable(L, idx, reply, depth, resp3);
                return;
            default:
                reply.WriteNullBulk();
                return;
        }
    }

    private static void WriteLuaTable(nint L, int idx, ReplyWriter reply, int depth, bool resp3)
    {
        if (lua_checkstack(L, 4) == 0 || depth > 1000)
        {
            reply.WriteError("ERR reached lua stack limit"u8);
            return;
        }
        if (RawGetField(L, idx, "err"u8) == TString)
        {
            reply.WriteError(Sanitize(ToBytes(L, -1)));
            Pop(L, 1);
            return;
        }
        Pop(L, 1);
        if (RawGetField(L, idx, "ok"u8) == TString)
        {
            reply.WriteSimpleString(Sanitize(ToBytes(L, -1)));
            Pop(L, 1);
            return;
        }
        Pop(L, 1);
        if (WriteResp3Table(L, idx, reply, depth, resp3))
            return;
        // An array stops at its first nil, as Redis's conversion does.
        int count = 0;
        while (lua_rawgeti(L, idx, count + 1) != TNil)
        {
            Pop(L, 1);
            count++;
        }
        Pop(L, 1);
        reply.WriteArrayHeader(count);
        for (int i = 1; i <= count; i++)
        {
            lua_rawgeti(L, idx, i);
            WriteLuaValue(L, -1, reply, depth + 1, resp3);
            Pop(L, 1);
        }
    }

    /// <summary>
    /// The RESP3 shapes a script may return, as Redis 7.0 reads them (whatever the protocol the script
    /// chose): {double=n}, {big_number=s}, {map={...}}, {set={...}}, {verbatim_string={format=, string=}};
    /// a RESP2 caller gets them as ReplyWriter downgrades them. False when the table is none of them.
    /// </summary>
    private static bool WriteResp3Table(nint L, int idx, ReplyWriter reply, int depth, bool resp3)
    {
        if (RawGetField(L, idx, "double"u8) == TNumber)
        {
            reply.WriteDouble(System.Text.Encoding.ASCII.GetBytes(Numbers.FormatDouble(lua_tonumberx(L, -1, out _))));
            Pop(L, 1);
            return true;
        }
        Pop(L, 1);
        if (RawGetField(L, idx, "big_number"u8) == TString)
        {
            var text = Sanitize(ToBytes(L, -1));
            if (reply.Resp3)
            {
                reply.WriteRaw("("u8);
                reply.WriteRaw(text);
                reply.WriteRaw("\r\n"u8);
            }
            else
            {
                reply.WriteBulk(text);
            }
            Pop(L, 1);
            return true;
        }
        Pop(L, 1);
        if (RawGetField(L, idx, "map"u8) == TTable)
        {
            int map = lua_gettop(L);
            reply.WriteMapHeader(CountPairs(L, map));
            lua_pushnil(L);
            while (lua_next(L, map) != 0)
            {
                WriteLuaValue(L, -2, reply, depth + 1, resp3);
                WriteLuaValue(L, -1, reply, depth + 1, resp3);
                Pop(L, 1);
            }
            Pop(L, 1);
            return true;
        }
        Pop(L, 1);
        if (RawGetField(L, idx, "set"u8) == TTable)
        {
            int set = lua_gettop(L);
            reply.WriteSetHeader(CountPairs(L, set));
            lua_pushnil(L);
            while (lua_next(L, set) != 0)
            {
                WriteLuaValue(L, -2, reply, depth + 1, resp3);
                Pop(L, 1);
            }
            Pop(L, 1);
            return true;
        }
        Pop(L, 1);
        if (RawGetField(L, idx, "verbatim_string"u8) == TTable)
        {
            int verbatim = lua_gettop(L);
            RawGetField(L, verbatim, "string"u8);
            RawGetField(L, verbatim, "format"u8);
            var text = ToBytes(L, -2);
            var format = ToBytes(L, -1);
            if (reply.Resp3 && format.Length == 3)
            {
                reply.WriteRaw("="u8);
                reply.WriteRaw(System.Text.Encoding.ASCII.GetBytes((text.Length + 4).ToString(System.Globalization.CultureInfo.InvariantCulture)));
                reply.WriteRaw("\r\n"u8);
                reply.WriteRaw(format);
                reply.WriteRaw(":"u8);
                reply.WriteRaw(text);
                reply.WriteRaw("\r\n"u8);
            }
            else
            {
                reply.WriteBulk(text);
            }
            Pop(L, 3);
            return true;
        }
        Pop(L, 1);
        return false;
    }

    private static int CountPairs(nint L, int table)
    {
        int count = 0;
        lua_pushnil(L);
        while (lua_next(L, table) != 0)
        {
            Pop(L, 1);
            count++;
        }
        return count;
    }

    /// <summary>A status or error line cannot hold a line break: Redis turns them into spaces.</summary>
    private static ReadOnlySpan<byte> Sanitize(ReadOnlySpan<byte> text)
    {
        if (text.IndexOfAny((byte)'\r', (byte)'\n') < 0)
            return text;
        var copy = text.ToArray();
        for (int i = 0; i < copy.Length; i++)
        {
            if (copy[i] is (byte)'\r' or (byte)'\n')
                copy[i] = (byte)' ';
        }
        return copy;
    }

    /// <summary>C's (long long) cast of a double on x86-64: a value out of range (or NaN) is INT64_MIN.</summary>
    internal static long CastToInt64(double value)
    {
        if (double.IsNaN(value) || value >= 9223372036854775808.0 || value < -9223372036854775808.0)
            return long.MinValue;
        return (long)value;
    }

    // ------------------------------------------------------------------
    // redis.call / redis.pcall
    // ------------------------------------------------------------------

    int IScriptHost.RedisCall(nint L)
    {
        int argc = lua_gettop(L);
        if (argc == 0)
            return LuaRuntime.PushFailure(L, "ERR Please specify at least one argument for this redis lib call");
        if (_argSlices.Length < argc)
            _argSlices = new ArgSlice[Math.Max(argc, _argSlices.Length * 2)];
        int used = 0;
        var number = _numberScratch;
        for (int i = 1; i <= argc; i++)
        {
            ReadOnlySpan<byte> text;
            int type = lua_type(L, i);
            if (type == TNumber)
            {
                // Lua 5.1 had only doubles, formatted with %.17g; an integer keeps all its digits here.
                int n = lua_isinteger(L, i) != 0
                    ? FormatInteger(lua_tointegerx(L, i, out _), number)
                    : Encoding.ASCII.GetBytes(Numbers.FormatDouble(lua_tonumberx(L, i, out _)), number);
                text = number.AsSpan(0, n);
            }
            else if (type == TString)
            {
                text = ToBytes(L, i);
            }
            else
            {
                return LuaRuntime.PushFailure(L, "ERR Lua redis lib command arguments must be strings or integers");
            }
            if (_argBuffer.Length - used < text.Length)
                Array.Resize(ref _argBuffer, Math.Max(_argBuffer.Length * 2, used + text.Length));
            text.CopyTo(_argBuffer.AsSpan(used));
            _argSlices[i - 1] = new ArgSlice(used, text.Length);
            used += text.Length;
        }
        var args = new CommandArgs(_argBuffer.AsSpan(0, used), _argSlices.AsSpan(0, argc));
        var refusal = CheckScriptCall(args, out var cmd);
        if (refusal is not null)
            return LuaRuntime.PushFailure(L, refusal);

        if (cmd!.Has(CommandFlags.Write))
            _wrote = true;
        _luaOutput.ClearCaptured();
        var propagation = _processor.Propagation;
        var mark = propagation.Mark();
        _processor.CallFromScript(_luaClient.Context!, cmd, args);
        if ((_replFlags & 2) == 0)
            propagation.TruncateTo(mark);

        lua_settop(L, 0);
        var reply = _luaOutput.Captured;
        int position = 0;
        bool failed = PushReply(L, reply, ref position);
        _luaOutput.ClearCaptured();
        lua_pushboolean(L, failed ? 1 : 0);
        return 2;
    }

    /// <summary>Redis 7.0's checks of a command called from a script; null, or the error text.</summary>
    private string? CheckScriptCall(in CommandArgs args, out CommandDescriptor? cmd)
    {
        cmd = _table.Find(args[0]);
        if (cmd is null)
            return "ERR Unknown Redis command called from script";
        if (!cmd.AcceptsArgCount(args.Count))
            return "ERR Wrong number of args calling Redis command from script";
        // SPOP carried 2.8's no-script flag (its result was random); 7.0 replicates effects and allows it.
        if (cmd.Has(CommandFlags.NoScript) && cmd.Name != "spop")
            return "ERR This Redis command is not allowed from script";
        if (cmd.Has(CommandFlags.Write) && _readOnly)
            return "ERR Write commands are not allowed from read-only scripts.";
        var refusal = _processor.CheckAllowed(_luaClient, cmd, args);
        return refusal.IsEmpty ? null : Encoding.UTF8.GetString(refusal);
    }

    private static int FormatInteger(long value, Span<byte> destination)
    {
        System.Buffers.Text.Utf8Formatter.TryFormat(value, destination, out int written);
        return written;
    }

    /// <summary>
    /// Pushes one RESP2 reply as Redis converts a command's reply for Lua: integer to number, bulk to
    /// string, nil to false, array to table, status to {ok=...}, error to {err=...}. True when it was an error.
    /// </summary>
    private static bool PushReply(nint L, ReadOnlySpan<byte> reply, ref int position)
    {
        lua_checkstack(L, 4);
        byte kind = reply[position];
        int lineEnd = reply[position..].IndexOf("\r\n"u8) + position;
        var line = reply[(position + 1)..lineEnd];
        position = lineEnd + 2;
        switch (kind)
        {
            case (byte)'+':
                lua_createtable(L, 0, 1);
                PushBytes(L, "ok"u8);
                PushBytes(L, line);
                lua_rawset(L, -3);
                return false;
            case (byte)'-':
                lua_createtable(L, 0, 1);
                PushBytes(L, "err"u8);
                PushBytes(L, ErrorTableText(line));
                lua_rawset(L, -3);
                return true;
            case (byte)':':
                Numbers.TryParseInt64(line, out long integer);
                lua_pushinteger(L, integer);
                return false;
            case (byte)'$':
            {
                Numbers.TryParseInt64(line, out long length);
                if (length < 0)
                {
                    lua_pushboolean(L, 0);
                    return false;
                }
                PushBytes(L, reply.Slice(position, (int)length));
                position += (int)length + 2;
                return false;
            }
            case (byte)'*':
            case (byte)'>':
            {
                Numbers.TryParseInt64(line, out long count);
                if (count < 0)
                {
                    lua_pushboolean(L, 0);
                    return false;
                }
                lua_createtable(L, (int)count, 0);
                for (int i = 1; i <= count; i++)
                {
                    PushReply(L, reply, ref position);
                    lua_rawseti(L, -2, i);
                }
                return false;
            }
            case (byte)'_':
                lua_pushnil(L);
                return false;
            case (byte)'#':
                lua_pushboolean(L, line.Length > 0 && line[0] == (byte)'t' ? 1 : 0);
                return false;
            case (byte)',':
                lua_createtable(L, 0, 1);
                PushBytes(L, "double"u8);
                Numbers.TryParseDouble(line, out double number);
                lua_pushnumber(L, number);
                lua_rawset(L, -3);
                return false;
            case (byte)'(':
                PushWrapped(L, "big_number"u8);
                PushBytes(L, line);
                lua_rawset(L, -3);
                return false;
            case (byte)'=':
            {
                Numbers.TryParseInt64(line, out long length);
                var body = reply.Slice(position, (int)length);
                position += (int)length + 2;
                PushWrapped(L, "verbatim_string"u8);
                lua_createtable(L, 0, 2);
                PushBytes(L, "format"u8);
                PushBytes(L, body[..Math.Min(3, body.Length)]);
                lua_rawset(L, -3);
                PushBytes(L, "string"u8);
                PushBytes(L, body.Length > 4 ? body[4..] : default);
                lua_rawset(L, -3);
                lua_rawset(L, -3);
                return false;
            }
            case (byte)'%':
            case (byte)'~':
            {
                bool map = kind == (byte)'%';
                Numbers.TryParseInt64(line, out long count);
                PushWrapped(L, map ? "map"u8 : "set"u8);
                lua_createtable(L, 0, (int)count);
                for (long i = 0; i < count; i++)
                {
                    PushReply(L, reply, ref position);
                    if (map)
                        PushReply(L, reply, ref position);
                    else
                        lua_pushboolean(L, 1);
                    lua_rawset(L, -3);
                }
                lua_rawset(L, -3);
                return false;
            }
            default:
                lua_pushboolean(L, 0);
                return false;
        }
    }

    /// <summary>Pushes {name = ...} and the key: the caller pushes the value and sets it (lua_rawset(L, -3)).</summary>
    private static void PushWrapped(nint L, ReadOnlySpan<byte> name)
    {
        lua_createtable(L, 0, 1);
        PushBytes(L, name);
    }

    /// <summary>An error reply as Redis 7.0 puts it in {err=...}: "CODE message", ERR when the reply has no code, line breaks trimmed.</summary>
    private static byte[] ErrorTableText(ReadOnlySpan<byte> line)
    {
        string text = Encoding.UTF8.GetString(line);
        int space = text.IndexOf(' ');
        string result = space < 0 ? "ERR " + text : text;
        return Encoding.UTF8.GetBytes(result.Trim('\r', '\n'));
    }

    int IScriptHost.AclCheck(nint L)
    {
        int argc = lua_gettop(L);
        if (argc == 0)
            return LuaRuntime.PushFailure(L, "ERR Please specify at least one argument for this redis lib call");
        var name = Encoding.UTF8.GetString(ToBytes(L, 1));
        if (_table.Find(name) is null)
            return LuaRuntime.PushFailure(L, "ERR Invalid command passed to redis.acl_check_cmd()");
        // psyncd has no ACL users: the default user may run every command.
        lua_settop(L, 0);
        lua_pushboolean(L, 1);
        return 1;
    }

    void IScriptHost.Log(int level, string message)
    {
        switch (level)
        {
            case 0:
                _log.Debug(message);
                break;
            case 1:
                _log.Verbose(message);
                break;
            case 2:
                _log.Notice(message);
                break;
            default:
                _log.Warning(message);
                break;
        }
    }

    /// <summary>redis.setresp: the protocol the commands of the script reply in from now on (the script's client is RESP2 at its start).</summary>
    void IScriptHost.SetResp(int version) => _luaOutput.Resp3 = version == 3;

    void IScriptHost.SetRepl(int flags) => _replFlags = flags;

    bool IScriptHost.ShouldYield()
    {
        if (!_yieldAllowed)
            return false;
        if (!_busy)
            return ElapsedMs(_startTicks) >= _options.LuaTimeLimit;
        return _killRequested || ElapsedMs(_sliceStartTicks) >= SliceMs;
    }

    private static long ElapsedMs(long since) => (Stopwatch.GetTimestamp() - since) * 1000 / Stopwatch.Frequency;

    // ------------------------------------------------------------------
    // SCRIPT
    // ------------------------------------------------------------------

    private void Script(CommandContext ctx, in CommandArgs args)
    {
        var reply = ctx.Reply;
        var sub = args[1];
        if (Keyword.Is(sub, "help"u8))
        {
            WriteHelp(reply);
        }
        else if (Keyword.Is(sub, "load"u8))
        {
            if (CompileAndCache(ctx, args[2], out string sha) is not null)
                reply.WriteBulk(sha);
        }
        else if (Keyword.Is(sub, "exists"u8))
        {
            reply.WriteArrayHeader(args.Count - 2);
            for (int i = 2; i < args.Count; i++)
            {
                bool known = args[i].Length == 40 && _cache.Contains(Encoding.ASCII.GetString(args[i]).ToLowerInvariant());
                reply.WriteInteger(known ? 1 : 0);
            }
        }
        else if (Keyword.Is(sub, "flush"u8))
        {
            if (args.Count > 3 || (args.Count == 3 && !Keyword.Is(args[2], "sync"u8) && !Keyword.Is(args[2], "async"u8)))
            {
                reply.WriteError("ERR SCRIPT FLUSH only support SYNC|ASYNC option"u8);
                return;
            }
            Flush();
            reply.WriteOk();
        }
        else if (Keyword.Is(sub, "kill"u8))
        {
            if (!_busy)
                reply.WriteError("NOTBUSY No scripts in execution right now."u8);
            else if (_wrote)
                reply.WriteError("UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command."u8);
            else
            {
                _killRequested = true;
                reply.WriteOk();
            }
        }
        else
        {
            // SCRIPT DEBUG: the Lua debugger (LDB) is not part of psyncd.
            reply.WriteError("ERR SCRIPT DEBUG is not supported by psyncd"u8);
        }
    }

    /// <summary>SCRIPT FLUSH: forgets every script and starts a new Lua state (its memory goes back at once).</summary>
    private void Flush()
    {
        _cache.Clear();
        _lua.Dispose();
        _lua = new LuaRuntime(this);
    }

    private static readonly string[] s_scriptHelp =
    {
        "EXISTS <sha1> [<sha1> ...]",
        "    Answer 1 or 0 for each <sha1>: whether a script with that digest is cached.",
        "FLUSH [ASYNC|SYNC]",
        "    Forget every cached script (EVALSHA of one then answers NOSCRIPT).",
        "KILL",
        "    Stop the script running now, if it has not written anything yet.",
        "LOAD <script>",
        "    Compile <script> and cache it under its SHA-1 digest without running it.",
    };

    private static void WriteHelp(ReplyWriter reply) => HelpReply.Write(reply, "SCRIPT", s_scriptHelp);
}
