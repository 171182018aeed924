using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using static Psyncd.Scripting.LuaNative;

namespace Psyncd.Scripting;

/// <summary>What the Lua side of redis.* calls in C# (implemented by <see cref="ScriptingEngine"/>).</summary>
internal interface IScriptHost
{
    /// <summary>redis.call / redis.pcall: runs the command in the arguments; pushes its reply and whether it failed. Returns 2.</summary>
    int RedisCall(nint L);

    /// <summary>redis.acl_check_cmd: pushes true, or an error table and true. Returns the number of values pushed.</summary>
    int AclCheck(nint L);

    void Log(int level, string message);

    void SetResp(int version);

    void SetRepl(int flags);

    /// <summary>True when the script running now must give the thread back (the hook yields it).</summary>
    bool ShouldYield();
}

/// <summary>
/// One Lua 5.4 state with Redis 7.0's scripting environment (sandbox.lua and the libraries), its compiled
/// scripts, and the running script's coroutine. Used inside the command loop only, one call at a time.
/// </summary>
/// <remarks>
/// A script runs as a coroutine of the main state so that it can be suspended by the count hook when it
/// runs past <c>busy-reply-threshold</c> and resumed later, possibly on another thread (see
/// <see cref="ScriptingEngine"/>): a coroutine's frames live in the Lua state, not on a thread's stack.
/// </remarks>
internal sealed unsafe partial class LuaRuntime : IDisposable
{
    /// <summary>Instructions between two calls of the hook: about a millisecond of a tight loop at most.</summary>
    private const int HookInstructions = 10_000;

    /// <summary>The libraries written in Lua, compiled when a script first names one (sandbox.lua).</summary>
    private static readonly Dictionary<string, byte[]> s_librarySources = new()
    {
        ["cjson"] = ReadResource("cjson.lua"),
        ["bit"] = ReadResource("bit.lua"),
        ["struct"] = ReadResource("struct.lua"),
        ["cmsgpack"] = ReadResource("cmsgpack.lua"),
    };

    private readonly IScriptHost _host;
    private readonly GCHandle _self;
    private readonly long* _usedBytes;
    private nint _state;

    /// <summary>The coroutine of the running script, or 0.</summary>
    private nint _running;

    /// <summary>The coroutine scripts run in (kept in the registry under <see cref="RunningKey"/>).</summary>
    private readonly nint _thread;

    /// <summary>The scripts' coroutine's slot in the registry (keeps it from being collected).</summary>
    private const string RunningKey = "psyncd.running";

    /// <summary>
    /// rand48's state (Redis's math.random). Redis 7.0 seeds it once, at random, and does not reset it per
    /// script (2.8 reset it to 0 before each one, for the replicas that re-ran scripts).
    /// </summary>
    private ulong _rand48;

    public LuaRuntime(IScriptHost host)
    {
        _host = host;
        _self = GCHandle.Alloc(this);
        _usedBytes = (long*)NativeMemory.AllocZeroed(sizeof(long));
        _state = lua_newstate(&Allocate, (nint)_usedBytes);
        if (_state == 0)
            throw new InvalidOperationException("Lua state could not be created");
        ExtraSpace(_state) = GCHandle.ToIntPtr(_self);
        _rand48 = Seed48(Random.Shared.Next());
        OpenStandardLibraries();
        RunSandbox();
        PushRegistryKey(_state, RunningKey);
        _thread = lua_newthread(_state);
        lua_rawset(_state, RegistryIndex);
        // What building the environment left behind (sources, temporaries) goes now, not at the first scripts.
        fixed (byte* code = "collectgarbage('collect')"u8)
        fixed (byte* chunkName = "=psyncd\0"u8)
        {
            luaL_loadbufferx(_state, code, 25, chunkName, null);
            lua_pcallk(_state, 0, 0, 0, 0, 0);
        }
    }

    /// <summary>Bytes the Lua state holds now (INFO's used_memory_lua).</summary>
    public long UsedBytes => *_usedBytes;

    /// <summary>True while a script's coroutine is suspended or running.</summary>
    public bool HasRunningScript => _running != 0;

    /// <summary>True when the last resume stopped because the hook yielded (not because the script ended).</summary>
    public bool Suspended { get; private set; }

    public void Dispose()
    {
        if (_state != 0)
        {
            lua_close(_state);
            _state = 0;
        }
        if (_self.IsAllocated)
            _self.Free();
        NativeMemory.Free(_usedBytes);
    }

    // ------------------------------------------------------------------
    // Compiling
    // ------------------------------------------------------------------

    /// <summary>Compiles <paramref name="body"/> and keeps it as script <paramref name="sha"/>; null, or the compiler's message.</summary>
    public string? Compile(string sha, ReadOnlySpan<byte> body)
    {
        var L = _state;
        int top = lua_gettop(L);
        try
        {
            PushSandboxFunction(L, "compile"u8);
            PushBytes(L, body);
            if (lua_pcallk(L, 1, 2, 0, 0, 0) != Ok)
                return Encoding.UTF8.GetString(ToBytes(L, -1));
            if (lua_type(L, -2) != TFunction)
                return Encoding.UTF8.GetString(ToBytes(L, -1));
            PushScriptsTable(L);
            PushString(L, sha);
            lua_pushvalue(L, -4);
            lua_rawset(L, -3);
            return null;
        }
        finally
        {
            lua_settop(L, top);
        }
    }

    // ------------------------------------------------------------------
    // Running
    // ------------------------------------------------------------------

    /// <summary>
    /// Starts script <paramref name="sha"/> (compiled before) with KEYS and ARGV; returns the resume status:
    /// <see cref="Ok"/> (results on the coroutine), <see cref="Yield"/> (suspended: call
    /// <see cref="Resume"/> later) or an error (see <see cref="DescribeError"/>).
    /// </summary>
    public int Start(string sha, in Protocol.CommandArgs args, int firstKey, int keyCount)
    {
        var L = _state;
        PushSandboxFunction(L, "set_arguments"u8);
        PushArray(L, args, firstKey, firstKey + keyCount);
        PushArray(L, args, firstKey + keyCount, args.Count);
        lua_pcallk(L, 2, 0, 0, 0, 0);

        // One coroutine serves every script: reset after each run (lua_closethread), so that a run leaves
        // no thread behind for the collector.
        var co = _thread;
        _running = co;
        lua_settop(co, 0);
        lua_sethook(co, &Hook, MaskCount, HookInstructions);
        PushScriptsTable(L);
        PushString(L, sha);
        lua_rawget(L, -2);
        lua_xmove(L, co, 1);
        Pop(L, 1);
        return Resume();
    }

    /// <summary>Runs the suspended script on; same statuses as <see cref="Start"/>.</summary>
    public int Resume()
    {
        var co = _running;
        Suspended = false;
        int status = lua_resume(co, _state, 0, out int results);
        if (status == Yield)
        {
            if (_hookYielded)
            {
                _hookYielded = false;
                Suspended = true;
                return Yield;
            }
            // The script itself yielded outside any coroutine of its own: Redis's 5.1 refuses that.
            lua_settop(co, 0);
            PushString(co, "attempt to yield from outside a coroutine");
            return ErrRun;
        }
        if (status == Ok && results != 1)
        {
            // Only the first result is the reply (a bare `return` is nil).
            lua_settop(co, results == 0 ? 0 : lua_gettop(co) - results + 1);
            if (results == 0)
                lua_pushnil(co);
        }
        return status;
    }

    private bool _hookYielded;

    /// <summary>The coroutine whose stack holds the result (top) after <see cref="Start"/> or <see cref="Resume"/> returned.</summary>
    public nint Running => _running;

    /// <summary>Forgets the running script (finished, failed or killed); its coroutine is collected.</summary>
    public void EndRun()
    {
        if (_running == 0)
            return;
        // Resetting a thread after an error leaves the error object on its stack: emptied too.
        lua_closethread(_running, _state);
        lua_settop(_running, 0);
        _running = 0;
        Suspended = false;
    }

    /// <summary>What a failed script reports: its message and where it was raised (source and line, or null).</summary>
    public (string Message, string? Source, long Line) DescribeError()
    {
        var L = _state;
        var co = _running;
        int top = lua_gettop(L);
        try
        {
            PushSandboxFunction(L, "describe_error"u8);
            PushRegistryKey(L, RunningKey);
            lua_rawget(L, RegistryIndex);
            lua_pushvalue(co, -1);
            lua_xmove(co, L, 1);
            if (lua_pcallk(L, 2, 3, 0, 0, 0) != Ok)
                return ("ERR " + Encoding.UTF8.GetString(ToBytes(L, -1)), null, 0);
            string message = Encoding.UTF8.GetString(ToBytes(L, -3));
            string? source = lua_type(L, -2) == TString ? Encoding.UTF8.GetString(ToBytes(L, -2)) : null;
            long line = lua_tointegerx(L, -1, out _);
            return (message, source, line);
        }
        finally
        {
            lua_settop(L, top);
        }
    }

    // ------------------------------------------------------------------
    // rand48 (Redis's PRNG for math.random)
    // ------------------------------------------------------------------

    private static ulong Seed48(int seed) => ((ulong)(uint)seed << 16) | 0x330E;

    /// <summary>Next value in [0, 1): rand48's 31 high bits over INT32_MAX, as Redis's math.random draws it.</summary>
    private double NextRandom()
    {
        _rand48 = (0x5DEECE66DUL * _rand48 + 0xB) & 0xFFFF_FFFF_FFFF;
        long r = (long)(_rand48 >> 17);
        return (double)(r % int.MaxValue) / int.MaxValue;
    }

    // ------------------------------------------------------------------
    // Construction
    // ------------------------------------------------------------------

    private void OpenStandardLibraries()
    {
        var L = _state;
        Require(L, "_G\0"u8, Export("luaopen_base"));
        Require(L, "table\0"u8, Export("luaopen_table"));
        Require(L, "string\0"u8, Export("luaopen_string"));
        Require(L, "math\0"u8, Export("luaopen_math"));
        Require(L, "coroutine\0"u8, Export("luaopen_coroutine"));
        Require(L, "debug\0"u8, Export("luaopen_debug"));

        static void Require(nint L, ReadOnlySpan<byte> name, delegate* unmanaged[Cdecl]<nint, int> open)
        {
            fixed (byte* p = name)
                luaL_requiref(L, p, open, 1);
            Pop(L, 1);
        }
    }

    private void RunSandbox()
    {
        var L = _state;
        LoadChunk(L, "sandbox");
        lua_createtable(L, 0, 12);
        SetFunction(L, "call"u8, &NativeCall);
        SetFunction(L, "acl_check"u8, &NativeAclCheck);
        SetFunction(L, "rand"u8, &NativeRand);
        SetFunction(L, "srand"u8, &NativeSrand);
        SetFunction(L, "sha1hex"u8, &NativeSha1Hex);
        SetFunction(L, "log"u8, &NativeLog);
        SetFunction(L, "setresp"u8, &NativeSetResp);
        SetFunction(L, "set_repl"u8, &NativeSetRepl);
        SetFunction(L, "library"u8, &NativeLibrary);
        PushBytes(L, "version"u8);
        PushString(L, Diagnostics.ServerIdentity.RedisVersion);
        lua_rawset(L, -3);
        PushBytes(L, "version_num"u8);
        lua_pushinteger(L, VersionNumber(Diagnostics.ServerIdentity.RedisVersion));
        lua_rawset(L, -3);
        // cjson.null: a userdata no script can forge.
        lua_newuserdatauv(L, 0, 0);
        if (lua_pcallk(L, 2, 1, 0, 0, 0) != Ok)
            throw new InvalidOperationException("sandbox.lua failed: " + Encoding.UTF8.GetString(ToBytes(L, -1)));
        PushRegistryKey(L, "psyncd.sandbox");
        lua_pushvalue(L, -2);
        lua_rawset(L, RegistryIndex);
        Pop(L, 1);
        PushRegistryKey(L, "psyncd.scripts");
        lua_createtable(L, 0, 16);
        lua_rawset(L, RegistryIndex);
    }

    private static void LoadChunk(nint L, string name)
    {
        byte[] source = ReadResource(name + ".lua");
        fixed (byte* p = source)
        fixed (byte* chunkName = "=psyncd\0"u8)
        fixed (byte* mode = "t\0"u8)
        {
            if (luaL_loadbufferx(L, p, (nuint)source.Length, chunkName, mode) != Ok)
                throw new InvalidOperationException(name + ".lua does not compile: " + Encoding.UTF8.GetString(ToBytes(L, -1)));
        }
    }

    private static byte[] ReadResource(string file)
    {
        var assembly = typeof(LuaRuntime).Assembly;
        using var stream = assembly.GetManifestResourceStream("Psyncd.Scripting.Lua." + file)
            ?? throw new InvalidOperationException("missing embedded resource " + file);
        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    private static long VersionNumber(string version)
    {
        var parts = version.Split('.');
        long n = 0;
        for (int i = 0; i < 3; i++)
            n = (n << 8) | (i < parts.Length && int.TryParse(parts[i], out int v) ? (long)v : 0);
        return n;
    }

    private static void SetFunction(nint L, ReadOnlySpan<byte> name, delegate* unmanaged[Cdecl]<nint, int> fn)
    {
        PushBytes(L, name);
        lua_pushcclosure(L, fn, 0);
        lua_rawset(L, -3);
    }

    private static void PushRegistryKey(nint L, string key) => PushString(L, key);

    private static void PushSandboxFunction(nint L, ReadOnlySpan<byte> name)
    {
        PushBytes(L, "psyncd.sandbox"u8);
        lua_rawget(L, RegistryIndex);
        RawGetField(L, -1, name);
        // [sandbox field] -> [field]
        lua_rotate(L, -2, 1);
        Pop(L, 1);
    }

    private static void PushScriptsTable(nint L)
    {
        PushBytes(L, "psyncd.scripts"u8);
        lua_rawget(L, RegistryIndex);
    }

    /// <summary>Pushes arguments [<paramref name="from"/>, <paramref name="to"/>) as a Lua array (KEYS, ARGV).</summary>
    private static void PushArray(nint L, in Protocol.CommandArgs args, int from, int to)
    {
        lua_createtable(L, to - from, 0);
        for (int i = from; i < to; i++)
        {
            PushBytes(L, args[i]);
            lua_rawseti(L, -2, i - from + 1);
        }
    }

    // ------------------------------------------------------------------
    // Callbacks from Lua (never throw, never raise: see LuaNative)
    // ------------------------------------------------------------------

    private static LuaRuntime From(nint L) => (LuaRuntime)GCHandle.FromIntPtr(ExtraSpace(L)).Target!;

    /// <summary>lua_Alloc: the C allocator, counting what the state holds. <paramref name="osize"/> is a size only when <paramref name="ptr"/> is set.</summary>
    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static nint Allocate(nint ud, nint ptr, nuint osize, nuint nsize)
    {
        long* used = (long*)ud;
        if (nsize == 0)
        {
            if (ptr != 0)
            {
                NativeMemory.Free((void*)ptr);
                *used -= (long)osize;
            }
            return 0;
        }
        void* p = NativeMemory.Realloc((void*)ptr, nsize);
        if (p == null)
            return 0;
        *used += (long)nsize - (ptr == 0 ? 0 : (long)osize);
        return (nint)p;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Hook(nint L, nint ar)
    {
        var runtime = From(L);
        if (lua_isyieldable(L) != 0 && runtime._host.ShouldYield())
        {
            runtime._hookYielded = true;
            // From a count hook this only marks the coroutine: Lua unwinds after the hook has returned.
            lua_yieldk(L, 0, 0, 0);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int NativeCall(nint L)
    {
        try
        {
            return From(L)._host.RedisCall(L);
        }
        catch (Exception e)
        {
            return PushFailure(L, "ERR internal error in redis.call: " + e.GetType().Name);
        }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int NativeAclCheck(nint L)
    {
        try
        {
            return From(L)._host.AclCheck(L);
        }
        catch (Exception e)
        {
            return PushFailure(L, "ERR internal error: " + e.GetType().Name);
        }
    }

    /// <summary>Pushes {err = text} and true (the failure convention of the redis.* callbacks); returns 2.</summary>
    internal static int PushFailure(nint L, string text)
    {
        lua_settop(L, 0);
        lua_createtable(L, 0, 1);
        PushBytes(L, "err"u8);
        PushString(L, text);
        lua_rawset(L, -3);
        lua_pushboolean(L, 1);
        return 2;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int NativeRand(nint L)
    {
        lua_pushnumber(L, From(L).NextRandom());
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int NativeSrand(nint L)
    {
        From(L)._rand48 = Seed48((int)lua_tointegerx(L, 1, out _));
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int NativeSha1Hex(nint L)
    {
        Span<byte> hex = stackalloc byte[40];
        ScriptCache.Sha1Hex(ToBytes(L, 1), hex);
        PushBytes(L, hex);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int NativeLog(nint L)
    {
        try
        {
            From(L)._host.Log((int)lua_tointegerx(L, 1, out _), Encoding.UTF8.GetString(ToBytes(L, 2)));
        }
        catch (Exception)
        {
            // Logging must never fail a script.
        }
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int NativeSetResp(nint L)
    {
        From(L)._host.SetResp((int)lua_tointegerx(L, 1, out _));
        return 0;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int NativeLibrary(nint L)
    {
        string name = Encoding.ASCII.GetString(ToBytes(L, 1));
        PushBytes(L, s_librarySources.TryGetValue(name, out var source) ? source : "return {}"u8);
        return 1;
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int NativeSetRepl(nint L)
    {
        From(L)._host.SetRepl((int)lua_tointegerx(L, 1, out _));
        return 0;
    }
}
