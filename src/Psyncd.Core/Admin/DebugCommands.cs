using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Admin;

/// <summary>DEBUG SLEEP / DIGEST / DIGEST-VALUE / OBJECT / POPULATE / SET-ACTIVE-EXPIRE / ERROR / LOG (other DEBUG subcommands belong to their subsystems).</summary>
internal sealed class DebugCommands
{
    private readonly ServerLog _log;
    private readonly IReadOnlyDictionary<string, CommandHandler> _extras;

    public DebugCommands(ServerLog log, IReadOnlyDictionary<string, CommandHandler> extras)
    {
        _log = log;
        _extras = extras;
    }


    public void Register(CommandTable table)
    {
        table.Add("debug", -2, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Protected, Debug);
    }

    private void Debug(CommandContext ctx, in CommandArgs args)
    {
        var sub = args[1];
        if (Keyword.Is(sub, "SLEEP"u8) && args.Count == 3)
            Sleep(ctx, args[2]);
        else if (Keyword.Is(sub, "DIGEST"u8) && args.Count == 2)
            ctx.Reply.WriteSimpleString(Hex(Digest.OfKeyspace(ctx.Keyspace)));
        else if (Keyword.Is(sub, "DIGEST-VALUE"u8))
        {
            ctx.Reply.WriteArrayHeader(args.Count - 2);
            Span<byte> digest = stackalloc byte[Digest.Size];
            for (int i = 2; i < args.Count; i++)
            {
                var entry = ctx.Db.Peek(args[i]);
                digest.Clear();
                if (entry.Exists)
                    Digest.MixValue(digest, entry);
                ctx.Reply.WriteSimpleString(Hex(digest));
            }
        }
        else if (Keyword.Is(sub, "OBJECT"u8) && args.Count == 3)
            DebugObject(ctx, args[2]);
        else if (Keyword.Is(sub, "POPULATE"u8) && args.Count is >= 3 and <= 5)
            Populate(ctx, args);
        else if (Keyword.Is(sub, "SET-ACTIVE-EXPIRE"u8) && args.Count == 3)
        {
            // atoi's reading, as Redis: anything not a non-zero number disables.
            ctx.Keyspace.ActiveExpireEnabled = Numbers.TryParseInt64(args[2], out long on) && on != 0;
            ctx.Reply.WriteOk();
        }
        else if (Keyword.Is(sub, "ERROR"u8) && args.Count == 3)
        {
            // A line break would end the error early and desynchronize the client: it becomes a space.
            var text = args[2].ToArray();
            text.AsSpan().Replace((byte)'\r', (byte)' ');
            text.AsSpan().Replace((byte)'\n', (byte)' ');
            ctx.Reply.WriteError(text);
        }
        else if (Keyword.Is(sub, "FAIL-AFTER-SET"u8))
            FailAfterSet(ctx, args);
        else if (Keyword.Is(sub, "HELP"u8) && args.Count == 2)
            HelpReply.Write(ctx.Reply, "DEBUG", s_help);
        else if (Keyword.Is(sub, "LOG"u8) && args.Count == 3)
        {
            _log.Warning("DEBUG LOG: " + Encoding.UTF8.GetString(args[2]));
            ctx.Reply.WriteOk();
        }
        else
        {
            string name = Encoding.UTF8.GetString(sub);
            if (_extras.TryGetValue(name, out var handler))
                handler(ctx, args);
            else
                ctx.Reply.WriteError(UnknownSubcommand(name));
        }
    }

    private static readonly string[] s_help =
    {
        "DIGEST",
        "    Answer a hex digest of the whole dataset (equal data, equal digest).",
        "DIGEST-VALUE <key> [<key> ...]",
        "    Answer a hex digest of each key's value.",
        "ERROR <string>",
        "    Answer an error reply carrying <string> (for testing clients).",
        "FAIL-AFTER-SET <key> <value>",
        "    Set <key>, then fail as a broken command would (psyncd's own, for testing the failure path).",
        "LOG <message>",
        "    Write <message> to the server log.",
        "OBJECT <key>",
        "    Describe how the value of <key> is stored.",
        "POPULATE <count> [<prefix>] [<size>]",
        "    Create <count> string keys named <prefix>:<n> (prefix 'key'), of <size> bytes when given;",
        "    they are not propagated to replicas.",
        "RELOAD",
        "    Save the dataset to disk, empty it and load it back.",
        "SET-ACTIVE-EXPIRE <0|1>",
        "    Stop (0) or resume (1) expiring keys in the background.",
        "SLEEP <seconds>",
        "    Stop the whole server for <seconds> (decimals allowed).",
    };

    /// <summary>Redis 7's reply to an unknown DEBUG subcommand, or a known one with the wrong number of arguments.</summary>
    public static string UnknownSubcommand(string name) => "ERR unknown subcommand or wrong number of arguments for '" + name + "'. Try DEBUG HELP.";

    /// <summary>
    /// DEBUG SLEEP seconds: the whole server sleeps (inside the loop), as redis-server's does. The time is
    /// read as strtod reads it: what is not a number sleeps 0, a negative time does not sleep.
    /// </summary>
    private void Sleep(CommandContext ctx, ReadOnlySpan<byte> seconds)
    {
        if (Numbers.TryParseDouble(seconds, out double s) && s > 0)
            Thread.Sleep(TimeSpan.FromSeconds(Math.Min(s, int.MaxValue / 1000.0)));
        ctx.Reply.WriteOk();
    }

    /// <summary>
    /// DEBUG POPULATE count [prefix] [size]: creates string keys prefix:0 .. prefix:count-1 (prefix "key")
    /// holding "value:N", or that text cut or zero-padded to size bytes. Keys that exist are left alone.
    /// As in Redis, neither propagated nor counted as changes.
    /// </summary>
    private void Populate(CommandContext ctx, in CommandArgs args)
    {
        if (!Numbers.TryParseInt64(args[2], out long count) || count < 0)
        {
            ctx.Reply.WriteError(ErrorReplies.NotPositive);
            return;
        }
        long size = 0;
        if (args.Count == 5 && (!Numbers.TryParseInt64(args[4], out size) || size < 0))
        {
            ctx.Reply.WriteError(ErrorReplies.NotPositive);
            return;
        }
        byte[] prefix = args.Count >= 4 ? args[3].ToArray() : "key"u8.ToArray();
        var key = new byte[prefix.Length + 21];
        prefix.CopyTo(key, 0);
        key[prefix.Length] = (byte)':';
        var value = new byte[Math.Max(size, 26)];
        var db = ctx.Db;
        long dirty = ctx.Keyspace.Dirty;
        for (long i = 0; i < count; i++)
        {
            i.TryFormat(key.AsSpan(prefix.Length + 1), out int digits, default, CultureInfo.InvariantCulture);
            var name = key.AsSpan(0, prefix.Length + 1 + digits);
            var entry = db.LookupWrite(name);
            if (entry.Exists)
                continue;
            "value:"u8.CopyTo(value);
            i.TryFormat(value.AsSpan(6), out int valueDigits, default, CultureInfo.InvariantCulture);
            int length = 6 + valueDigits;
            if (size > 0)
            {
                // The text, cut to size or followed by zero bytes up to it.
                value.AsSpan(length).Clear();
                length = (int)size;
            }
            db.SetString(name, value.AsSpan(0, length), in entry);
        }
        ctx.Keyspace.Dirty = dirty;
        ctx.PreventPropagation();
        ctx.Reply.WriteOk();
    }

    /// <summary>DEBUG OBJECT key: redis-server's one-line description of a value.</summary>
    private void DebugObject(CommandContext ctx, ReadOnlySpan<byte> key)
    {
        var entry = ctx.Db.Peek(key);
        if (!entry.Exists)
        {
            ctx.Reply.WriteError(ErrorReplies.NoSuchKey);
            return;
        }
        string encoding;
        long length;
        var limits = new EncodingLimits(ctx.Options.HashMaxZiplistEntries, ctx.Options.HashMaxZiplistValue, ctx.Options.ListMaxZiplistEntries,
            ctx.Options.ListMaxZiplistValue, ctx.Options.SetMaxIntsetEntries, ctx.Options.ZsetMaxZiplistEntries, ctx.Options.ZsetMaxZiplistValue);
        if (entry.Kind == ValueKind.String)
        {
            var s = entry.String;
            encoding = s.Length <= 20 && Numbers.TryParseInt64(s, out _) ? "int" : s.Length <= 44 ? "embstr" : "raw";
            length = s.Length;
        }
        else
        {
            encoding = entry.Object!.EncodingName(limits);
            length = entry.Object.Count;
        }
        long idle = ctx.Keyspace.IdleSeconds(entry);
        var text = "Value at:0x" + (key.Length * 31L + length).ToString("x12", CultureInfo.InvariantCulture) +
                   " refcount:1 encoding:" + encoding +
                   " serializedlength:" + length.ToString(CultureInfo.InvariantCulture) +
                   " lru:" + ((DateTimeOffset.UtcNow.ToUnixTimeSeconds() - idle) & ((1 << 24) - 1)).ToString(CultureInfo.InvariantCulture) +
                   " lru_seconds_idle:" + idle.ToString(CultureInfo.InvariantCulture);
        ctx.Reply.WriteSimpleString(text);
    }

    public static string Hex(ReadOnlySpan<byte> digest) => Convert.ToHexString(digest).ToLowerInvariant();

    // ------------------------------------------------------------------
    // FAIL-AFTER-SET: a command that fails the way a bug would, after it changed the dataset and began
    // its reply, so that tests can check the dispatcher's last line of defence (one error reply, the
    // connection and its queued replies kept, propagation matching what was applied). DEBUG is the place
    // for such things, as redis-server's DEBUG ASSERT and DEBUG SEGFAULT are.
    // ------------------------------------------------------------------

    /// <summary>The exception the command throws: nothing else in the server throws it.</summary>
    public sealed class InjectedFault : Exception
    {
        public InjectedFault()
            : base("DEBUG FAIL-AFTER-SET failed on purpose")
        {
        }
    }

    /// <summary>DEBUG FAIL-AFTER-SET key value: sets the string, writes half a reply, then throws.</summary>
    private void FailAfterSet(CommandContext ctx, in CommandArgs args)
    {
        if (args.Count != 4)
        {
            ctx.Reply.WriteError("ERR DEBUG FAIL-AFTER-SET takes a key and a value");
            return;
        }
        ctx.Db.SetString(args[2], args[3]);
        ctx.Reply.WriteArrayHeader(2);
        ctx.Reply.WriteBulk(args[3]);
        throw new InjectedFault();
    }
}
