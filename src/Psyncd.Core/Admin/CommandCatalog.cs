using System.Text;
using System.Text.Json;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Text;

namespace Psyncd.Admin;

/// <summary>
/// What COMMAND INFO, COMMAND DOCS and COMMAND GETKEYS know of each command beyond the dispatcher's
/// descriptor: redis-server 7.0's flags, ACL categories, tips, key specs and argument syntax, with psyncd's
/// own summaries. The data is <c>CommandData.json</c>, written by <c>scripts/command-data</c> (see there
/// and docs/commands.md for what is taken from Redis and what is psyncd's own), embedded in the assembly and
/// read once, the first time a client asks.
/// </summary>
/// <remarks>
/// The JSON keeps RESP3's types, so one walk writes any part of it for either protocol: an object is a map,
/// an array an array, <c>{"~": [...]}</c> a set, a string starting with <c>+</c> a status reply (a bulk
/// string starting with <c>+</c> or <c>\</c> is escaped with a <c>\</c>), a number an integer.
/// </remarks>
internal sealed class CommandCatalog
{
    private readonly Lazy<Dictionary<string, JsonElement>> _entries = new(Load);

    /// <summary>The data of a command (any case; <c>container|sub</c> for a subcommand), or false when there is none.</summary>
    public bool TryGet(string name, out JsonElement entry)
    {
        var entries = _entries.Value;
        int bar = name.IndexOf('|');
        if (bar < 0)
            return entries.TryGetValue(name, out entry);
        entry = default;
        if (!entries.TryGetValue(name[..bar], out var container) || Info(container)[9].ValueKind != JsonValueKind.Array)
            return false;
        foreach (var sub in Info(container)[9].EnumerateArray())
        {
            if (string.Equals(sub[0].GetString(), name, StringComparison.OrdinalIgnoreCase))
            {
                entry = sub;
                return true;
            }
        }
        return false;
    }

    /// <summary>COMMAND INFO's entry for a top-level command (its <c>info</c> array).</summary>
    public static JsonElement Info(JsonElement entry) => entry.GetProperty("info");

    /// <summary>The names of a command's subcommands psyncd has, as <c>container|sub</c>.</summary>
    public IEnumerable<string> SubcommandNames(string name)
    {
        if (!_entries.Value.TryGetValue(name, out var entry) || Info(entry)[9].ValueKind != JsonValueKind.Array)
            yield break;
        foreach (var sub in Info(entry)[9].EnumerateArray())
            yield return sub[0].GetString()!;
    }

    /// <summary>True when the command (or subcommand) belongs to the ACL category (without its <c>@</c>, any case).</summary>
    public bool InCategory(string name, string category)
    {
        if (!TryGet(name, out var entry))
            return false;
        var info = name.Contains('|') ? entry : Info(entry);
        foreach (var item in info[6].GetProperty("~").EnumerateArray())
        {
            if (string.Equals(item.GetString().AsSpan(2).ToString(), category, StringComparison.OrdinalIgnoreCase))
                return true;
        }
        return false;
    }

    /// <summary>Writes one value of the data in the writer's protocol (see the remarks).</summary>
    public static void Write(ReplyWriter reply, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Number:
                reply.WriteInteger(value.GetInt64());
                return;
            case JsonValueKind.Null:
                reply.WriteNullBulk();
                return;
            case JsonValueKind.String:
            {
                string text = value.GetString()!;
                if (text.StartsWith('+'))
                    reply.WriteSimpleString(text[1..]);
                else
                    reply.WriteBulk(text.StartsWith('\\') ? text[1..] : text);
                return;
            }
            case JsonValueKind.Array:
                reply.WriteArrayHeader(value.GetArrayLength());
                foreach (var item in value.EnumerateArray())
                    Write(reply, item);
                return;
            default:
            {
                if (value.TryGetProperty("~", out var set))
                {
                    reply.WriteSetHeader(set.GetArrayLength());
                    foreach (var item in set.EnumerateArray())
                        Write(reply, item);
                    return;
                }
                int count = 0;
                foreach (var _ in value.EnumerateObject())
                    count++;
                reply.WriteMapHeader(count);
                foreach (var property in value.EnumerateObject())
                {
                    reply.WriteBulk(property.Name);
                    Write(reply, property.Value);
                }
                return;
            }
        }
    }

    // ------------------------------------------------------------------
    // Keys of a command line (COMMAND GETKEYS, GETKEYSANDFLAGS)
    // ------------------------------------------------------------------

    /// <summary>What <see cref="TryGetKeys"/> found.</summary>
    public enum KeysResult
    {
        Found,

        /// <summary>The arguments do not hold the keys the command needs (Redis: "Invalid arguments").</summary>
        Invalid,
    }

    /// <summary>
    /// The key arguments of <paramref name="args"/> (the command line, its name first), each with the flags of
    /// the key spec that found it, by the command's key specs as Redis 7 reads them: a start found by index or
    /// keyword, then a range or a count of keys. SORT's keys are found as Redis's own SORT parser finds them, and
    /// SET's flags depend on its GET option (its spec says "variable flags").
    /// </summary>
    public static KeysResult TryGetKeys(string name, JsonElement info, IReadOnlyList<byte[]> args, List<(int Index, JsonElement Flags)> keys)
    {
        var specs = info[8].GetProperty("~");
        if (name == "sort")
            return SortKeys(specs, args, keys);
        foreach (var spec in specs.EnumerateArray())
        {
            var flags = spec.GetProperty("flags");
            var begin = spec.GetProperty("begin_search");
            int start;
            switch (begin.GetProperty("type").GetString())
            {
                case "index":
                    start = begin.GetProperty("spec").GetProperty("index").GetInt32();
                    break;
                case "keyword":
                {
                    var keywordSpec = begin.GetProperty("spec");
                    var keyword = Encoding.ASCII.GetBytes(keywordSpec.GetProperty("keyword").GetString()!);
                    int from = keywordSpec.GetProperty("startfrom").GetInt32();
                    start = -1;
                    int step = from >= 0 ? 1 : -1;
                    for (int at = from >= 0 ? from : args.Count + from; at > 0 && at < args.Count; at += step)
                    {
                        if (Keyword.Is(args[at], keyword))
                        {
                            start = at + 1;
                            break;
                        }
                    }
                    if (start < 0)
                        continue;
                    break;
                }
                default:
                    continue;
            }
            if (start >= args.Count)
                continue;
            var find = spec.GetProperty("find_keys");
            var findSpec = find.GetProperty("spec");
            switch (find.GetProperty("type").GetString())
            {
                case "range":
                {
                    int lastKey = findSpec.GetProperty("lastkey").GetInt32();
                    int keyStep = findSpec.GetProperty("keystep").GetInt32();
                    int limit = findSpec.GetProperty("limit").GetInt32();
                    int last = lastKey >= 0 ? start + lastKey : args.Count + lastKey;
                    if (lastKey == -1 && limit > 1)
                        last = start + (args.Count - start) / limit - 1;
                    for (int at = start; at <= last && at < args.Count; at += keyStep)
                        keys.Add((at, flags));
                    break;
                }
                case "keynum":
                {
                    int numIndex = start + findSpec.GetProperty("keynumidx").GetInt32();
                    int first = start + findSpec.GetProperty("firstkey").GetInt32();
                    int keyStep = findSpec.GetProperty("keystep").GetInt32();
                    if (numIndex >= args.Count || !Numbers.TryParseInt64(args[numIndex], out long count) || count < 0
                        || first + (count - 1) * keyStep >= args.Count)
                        return KeysResult.Invalid;
                    // A count of zero leaves the keys ZUNIONSTORE/ZINTERSTORE need missing, as Redis's key parser sees it.
                    if (count == 0 && !HasFlag(info, "no_mandatory_keys"))
                        return KeysResult.Invalid;
                    for (long k = 0; k < count; k++)
                        keys.Add((first + (int)k * keyStep, flags));
                    break;
                }
            }
        }
        return keys.Count > 0 || HasFlag(info, "no_mandatory_keys") ? KeysResult.Found : KeysResult.Invalid;
    }

    /// <summary>
    /// A key's flags, as GETKEYSANDFLAGS shows them: its spec's, except SET's, whose spec has "variable flags":
    /// with GET it reads the old value (RW access update), without it only overwrites (OW update).
    /// </summary>
    public static void WriteKeyFlags(ReplyWriter reply, string name, IReadOnlyList<byte[]> args, JsonElement flags)
    {
        if (name != "set")
        {
            Write(reply, flags);
            return;
        }
        bool get = false;
        for (int i = 3; i < args.Count; i++)
            get |= Keyword.Is(args[i], "GET"u8);
        reply.WriteSetHeader(get ? 3 : 2);
        if (get)
        {
            reply.WriteSimpleString("RW"u8);
            reply.WriteSimpleString("access"u8);
        }
        else
        {
            reply.WriteSimpleString("OW"u8);
        }
        reply.WriteSimpleString("update"u8);
    }

    /// <summary>True when the command's flag set holds <paramref name="flag"/>.</summary>
    public static bool HasFlag(JsonElement info, string flag)
    {
        foreach (var item in info[2].GetProperty("~").EnumerateArray())
        {
            if (item.GetString().AsSpan(1).SequenceEqual(flag))
                return true;
        }
        return false;
    }

    /// <summary>SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination]: the key, and the last STORE's destination.</summary>
    private static KeysResult SortKeys(JsonElement specs, IReadOnlyList<byte[]> args, List<(int Index, JsonElement Flags)> keys)
    {
        keys.Add((1, specs[0].GetProperty("flags")));
        int store = -1;
        for (int i = 2; i < args.Count; i++)
        {
            if (Keyword.Is(args[i], "LIMIT"u8))
                i += 2;
            else if (Keyword.Is(args[i], "GET"u8) || Keyword.Is(args[i], "BY"u8))
                i += 1;
            else if (Keyword.Is(args[i], "STORE"u8) && i + 1 < args.Count)
                store = ++i;
        }
        if (store > 0)
            keys.Add((store, specs[2].GetProperty("flags")));
        return KeysResult.Found;
    }

    private static Dictionary<string, JsonElement> Load()
    {
        using var stream = typeof(CommandCatalog).Assembly.GetManifestResourceStream("Psyncd.Admin.CommandData.json")
            ?? throw new InvalidOperationException("CommandData.json is not embedded in the assembly");
        using var document = JsonDocument.Parse(stream);
        var entries = new Dictionary<string, JsonElement>(StringComparer.OrdinalIgnoreCase);
        foreach (var property in document.RootElement.EnumerateObject())
            entries[property.Name] = property.Value.Clone();
        return entries;
    }
}
