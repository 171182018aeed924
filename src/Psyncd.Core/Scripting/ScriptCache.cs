using System.Security.Cryptography;
using System.Text;

namespace Psyncd.Scripting;

/// <summary>The <c>#!lua flags=...</c> a script declares (Redis 7.0's script flags).</summary>
[Flags]
internal enum ScriptFlags
{
    None = 0,

    /// <summary>The script has a shebang: Redis 7.0 checks its flags before running it (no compatibility mode).</summary>
    Shebang = 1 << 0,
    NoWrites = 1 << 1,
    AllowOom = 1 << 2,
    AllowStale = 1 << 3,
    NoCluster = 1 << 4,
    AllowCrossSlotKeys = 1 << 5,
}

/// <summary>A script in the cache: its body as given and its flags.</summary>
internal sealed record CachedScript(byte[] Body, ScriptFlags Flags);

/// <summary>
/// The scripts EVAL and SCRIPT LOAD compiled, by SHA1 (lower-case hex), with the memory INFO reports for them.
/// </summary>
internal sealed class ScriptCache
{
    private readonly Dictionary<string, CachedScript> _scripts = new(StringComparer.Ordinal);

    public int Count => _scripts.Count;

    /// <summary>Bytes of the cached bodies and their entries (INFO's used_memory_scripts_eval).</summary>
    public long Bytes { get; private set; }

    public bool TryGet(string sha, out CachedScript script) => _scripts.TryGetValue(sha, out script!);

    public bool Contains(string sha) => _scripts.ContainsKey(sha);

    public void Add(string sha, CachedScript script)
    {
        if (_scripts.TryAdd(sha, script))
            Bytes += script.Body.Length + EntryOverhead;
    }

    public void Clear()
    {
        _scripts.Clear();
        Bytes = 0;
    }

    /// <summary>What an entry costs besides its body (the key's 40 bytes, the entry and the script object), as Redis counts it roughly.</summary>
    private const int EntryOverhead = 40 + 64;

    /// <summary>The SHA1 of <paramref name="data"/> as 40 lower-case hex digits.</summary>
    public static void Sha1Hex(ReadOnlySpan<byte> data, Span<byte> hex)
    {
        Span<byte> digest = stackalloc byte[20];
        SHA1.HashData(data, digest);
        const string digits = "0123456789abcdef";
        for (int i = 0; i < 20; i++)
        {
            hex[2 * i] = (byte)digits[digest[i] >> 4];
            hex[2 * i + 1] = (byte)digits[digest[i] & 15];
        }
    }

    public static string Sha1Hex(ReadOnlySpan<byte> data)
    {
        Span<byte> hex = stackalloc byte[40];
        Sha1Hex(data, hex);
        return Encoding.ASCII.GetString(hex);
    }

    /// <summary>
    /// Reads the flags of a <c>#!</c> first line as Redis 7.0 parses them; false with the error reply text.
    /// <paramref name="codeStart"/> is where the code after the shebang line begins (0 without one).
    /// </summary>
    public static bool TryParseShebang(ReadOnlySpan<byte> body, out ScriptFlags flags, out int codeStart, out string? error)
    {
        flags = ScriptFlags.None;
        codeStart = 0;
        error = null;
        if (!body.StartsWith("#!"u8))
            return true;
        int newline = body.IndexOf((byte)'\n');
        if (newline < 0)
        {
            error = "ERR Invalid script shebang";
            return false;
        }
        codeStart = newline;
        flags = ScriptFlags.Shebang;
        var parts = Encoding.UTF8.GetString(body[..newline]).Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts[0] != "#!lua")
        {
            error = "ERR Unexpected engine in script shebang: " + (parts.Length == 0 ? "#!" : parts[0]);
            return false;
        }
        for (int i = 1; i < parts.Length; i++)
        {
            if (!parts[i].StartsWith("flags=", StringComparison.Ordinal))
            {
                error = "ERR Unknown lua shebang option: " + parts[i];
                return false;
            }
            foreach (var flag in parts[i]["flags=".Length..].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                var parsed = flag switch
                {
                    "no-writes" => ScriptFlags.NoWrites,
                    "allow-oom" => ScriptFlags.AllowOom,
                    "allow-stale" => ScriptFlags.AllowStale,
                    "no-cluster" => ScriptFlags.NoCluster,
                    "allow-cross-slot-keys" => ScriptFlags.AllowCrossSlotKeys,
                    _ => ScriptFlags.None,
                };
                if (parsed == ScriptFlags.None)
                {
                    error = "ERR Unexpected flag in script shebang: " + flag;
                    return false;
                }
                flags |= parsed;
            }
        }
        return true;
    }
}
