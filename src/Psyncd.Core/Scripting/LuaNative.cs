using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Psyncd.Scripting;

/// <summary>
/// The few entry points of Lua 5.4's C API that psyncd uses, bound to KeraLua's native <c>liblua54</c> (only
/// the native library of that package is used: its managed wrapper allocates per call and hides the
/// allocator, which psyncd needs to count <c>used_memory_lua</c>).
/// </summary>
/// <remarks>
/// Rule for every callback from Lua into C#: it must never let Lua raise an error through managed frames
/// (lua_error is a longjmp, which .NET cannot unwind). Callbacks return their failure as values and a Lua
/// wrapper raises it (see sandbox.lua); inside callbacks only raw table access is used, which calls no
/// metamethod and so cannot raise.
/// </remarks>
internal static unsafe partial class LuaNative
{
    private const string Lib = "lua54";

    public const int Ok = 0, Yield = 1, ErrRun = 2, ErrSyntax = 3, ErrMem = 4, ErrErr = 5;
    public const int TNone = -1, TNil = 0, TBoolean = 1, TLightUserData = 2, TNumber = 3, TString = 4, TTable = 5,
        TFunction = 6, TUserData = 7, TThread = 8;

    /// <summary>LUA_REGISTRYINDEX: -LUAI_MAXSTACK - 1000, LUAI_MAXSTACK being 1,000,000 in a 64-bit build.</summary>
    public const int RegistryIndex = -1001000;

    public const int MaskCount = 1 << 3;
    public const int MultRet = -1;

    [LibraryImport(Lib)]
    public static partial nint lua_newstate(delegate* unmanaged[Cdecl]<nint, nint, nuint, nuint, nint> alloc, nint ud);

    [LibraryImport(Lib)]
    public static partial void lua_close(nint L);

    [LibraryImport(Lib)]
    public static partial nint lua_newthread(nint L);

    [LibraryImport(Lib)]
    public static partial int lua_closethread(nint L, nint from);

    [LibraryImport(Lib)]
    public static partial int lua_resume(nint L, nint from, int narg, out int nres);

    [LibraryImport(Lib)]
    public static partial int lua_yieldk(nint L, int nresults, nint ctx, nint k);

    [LibraryImport(Lib)]
    public static partial int lua_isyieldable(nint L);

    [LibraryImport(Lib)]
    public static partial void lua_sethook(nint L, delegate* unmanaged[Cdecl]<nint, nint, void> hook, int mask, int count);

    [LibraryImport(Lib)]
    public static partial int lua_gettop(nint L);

    [LibraryImport(Lib)]
    public static partial void lua_settop(nint L, int idx);

    [LibraryImport(Lib)]
    public static partial void lua_pushvalue(nint L, int idx);

    [LibraryImport(Lib)]
    public static partial void lua_rotate(nint L, int idx, int n);

    [LibraryImport(Lib)]
    public static partial int lua_checkstack(nint L, int n);

    [LibraryImport(Lib)]
    public static partial void lua_xmove(nint from, nint to, int n);

    [LibraryImport(Lib)]
    public static partial int lua_type(nint L, int idx);

    [LibraryImport(Lib)]
    public static partial int lua_toboolean(nint L, int idx);

    [LibraryImport(Lib)]
    public static partial byte* lua_tolstring(nint L, int idx, out nuint len);

    [LibraryImport(Lib)]
    public static partial double lua_tonumberx(nint L, int idx, out int isnum);

    [LibraryImport(Lib)]
    public static partial long lua_tointegerx(nint L, int idx, out int isnum);

    [LibraryImport(Lib)]
    public static partial int lua_isinteger(nint L, int idx);

    [LibraryImport(Lib)]
    public static partial void lua_pushnil(nint L);

    [LibraryImport(Lib)]
    public static partial void lua_pushnumber(nint L, double n);

    [LibraryImport(Lib)]
    public static partial void lua_pushinteger(nint L, long n);

    [LibraryImport(Lib)]
    public static partial byte* lua_pushlstring(nint L, byte* s, nuint len);

    [LibraryImport(Lib)]
    public static partial void lua_pushboolean(nint L, int b);

    [LibraryImport(Lib)]
    public static partial void lua_pushcclosure(nint L, delegate* unmanaged[Cdecl]<nint, int> fn, int n);

    [LibraryImport(Lib)]
    public static partial nint lua_newuserdatauv(nint L, nuint size, int nuvalue);

    [LibraryImport(Lib)]
    public static partial void lua_createtable(nint L, int narr, int nrec);

    [LibraryImport(Lib)]
    public static partial int lua_rawget(nint L, int idx);

    [LibraryImport(Lib)]
    public static partial void lua_rawset(nint L, int idx);

    [LibraryImport(Lib)]
    public static partial int lua_rawgeti(nint L, int idx, long n);

    [LibraryImport(Lib)]
    public static partial void lua_rawseti(nint L, int idx, long n);

    [LibraryImport(Lib)]
    public static partial int lua_next(nint L, int idx);

    [LibraryImport(Lib)]
    public static partial int lua_pcallk(nint L, int nargs, int nresults, int errfunc, nint ctx, nint k);

    [LibraryImport(Lib)]
    public static partial int luaL_loadbufferx(nint L, byte* buff, nuint size, byte* name, byte* mode);

    [LibraryImport(Lib)]
    public static partial void luaL_requiref(nint L, byte* modname, delegate* unmanaged[Cdecl]<nint, int> openf, int glb);

    /// <summary>The C address of an exported function (the luaopen_* functions are handed to luaL_requiref as such).</summary>
    public static delegate* unmanaged[Cdecl]<nint, int> Export(string name)
    {
        if (!NativeLibrary.TryLoad(Lib, typeof(LuaNative).Assembly, null, out nint library))
            throw new DllNotFoundException("liblua54 (from the KeraLua package) could not be loaded");
        return (delegate* unmanaged[Cdecl]<nint, int>)NativeLibrary.GetExport(library, name);
    }

    // ---- helpers over the API (what lua.h defines as macros) ----

    public static void Pop(nint L, int n) => lua_settop(L, -n - 1);

    public static void PushBytes(nint L, ReadOnlySpan<byte> bytes)
    {
        fixed (byte* p = bytes)
            lua_pushlstring(L, p == null ? (byte*)1 : p, (nuint)bytes.Length);
    }

    public static void PushString(nint L, string text) => PushBytes(L, System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>The string (or number, converted in place as Lua does) at <paramref name="idx"/>; empty when neither.</summary>
    public static ReadOnlySpan<byte> ToBytes(nint L, int idx)
    {
        byte* p = lua_tolstring(L, idx, out nuint len);
        return p == null ? default : new ReadOnlySpan<byte>(p, (int)len);
    }

    /// <summary>t[name] without metamethods, pushed; returns its type. <paramref name="name"/> is ASCII.</summary>
    public static int RawGetField(nint L, int idx, ReadOnlySpan<byte> name)
    {
        int t = AbsIndex(L, idx);
        PushBytes(L, name);
        return lua_rawget(L, t);
    }

    public static int AbsIndex(nint L, int idx) => idx > 0 || idx <= RegistryIndex ? idx : lua_gettop(L) + idx + 1;

    /// <summary>
    /// The block of LUA_EXTRASPACE bytes before every lua_State (a pointer's size in the default build), copied
    /// into each new thread: psyncd keeps there the GCHandle of the runtime that owns the state.
    /// </summary>
    public static ref nint ExtraSpace(nint L) => ref Unsafe.AsRef<nint>((void*)(L - sizeof(nint)));
}
