using System.Buffers.Text;
using System.Text;
using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>Generic key commands.</summary>
internal static partial class KeyCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("del", -2, CommandFlags.Write, Del, 1, -1, 1);
        table.Add("unlink", -2, CommandFlags.Write, Del, 1, -1, 1);
        table.Add("exists", -2, CommandFlags.ReadOnly | CommandFlags.Fast, Exists, 1, -1, 1);
        table.Add("type", 2, CommandFlags.ReadOnly | CommandFlags.Fast, Type, 1, 1, 1);
        table.Add("rename", 3, CommandFlags.Write, Rename, 1, 2, 1);
        table.Add("renamenx", 3, CommandFlags.Write | CommandFlags.Fast, RenameNx, 1, 2, 1);
        table.Add("move", 3, CommandFlags.Write | CommandFlags.Fast, Move, 1, 1, 1);
        table.Add("expire", -3, CommandFlags.Write | CommandFlags.Fast, Expire, 1, 1, 1);
        table.Add("pexpire", -3, CommandFlags.Write | CommandFlags.Fast, PExpire, 1, 1, 1);
        table.Add("expireat", -3, CommandFlags.Write | CommandFlags.Fast, ExpireAt, 1, 1, 1);
        table.Add("pexpireat", -3, CommandFlags.Write | CommandFlags.Fast, PExpireAt, 1, 1, 1);
        table.Add("ttl", 2, CommandFlags.ReadOnly | CommandFlags.Fast, Ttl, 1, 1, 1);
        table.Add("pttl", 2, CommandFlags.ReadOnly | CommandFlags.Fast, PTtl, 1, 1, 1);
        table.Add("persist", 2, CommandFlags.Write | CommandFlags.Fast, Persist, 1, 1, 1);
        table.Add("expiretime", 2, CommandFlags.ReadOnly | CommandFlags.Fast, ExpireTime, 1, 1, 1);
        table.Add("pexpiretime", 2, CommandFlags.ReadOnly | CommandFlags.Fast, PExpireTime, 1, 1, 1);
        table.Add("touch", -2, CommandFlags.ReadOnly | CommandFlags.Fast, Exists, 1, -1, 1);
        table.Add("copy", -3, CommandFlags.Write | CommandFlags.DenyOom, Copy, 1, 2, 1);
        table.Add("keys", 2, CommandFlags.ReadOnly | CommandFlags.SortForScript | CommandFlags.TouchesArbitraryKeys, Keys);
        table.Add("scan", -2, CommandFlags.ReadOnly | CommandFlags.Random | CommandFlags.TouchesArbitraryKeys, Scan);
        table.Add("randomkey", 1, CommandFlags.ReadOnly | CommandFlags.Random | CommandFlags.TouchesArbitraryKeys, RandomKey);
        table.Add("object", -2, CommandFlags.ReadOnly, Object, 2, 2, 1);
        table.AddSubcommands("object", ("idletime", 3), ("help", 2), ("freq", 3), ("encoding", 3), ("refcount", 3));
    }

    private static void Del(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        long deleted = 0;
        for (int i = 1; i < args.Count; i++)
        {
            // An expired key counts as missing: look it up first so that expiry is applied.
            if (db.Exists(args[i]) && db.Delete(args[i]))
            {
                deleted++;
                ctx.Notify(KeyspaceEventClass.Generic, "del"u8, db.Index, args[i]);
            }
        }
        ctx.Reply.WriteInteger(deleted);
    }

    private static void Exists(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        long count = 0;
        for (int i = 1; i < args.Count; i++)
        {
            if (db.LookupReadNoTouch(args[i]).Exists)
                count++;
        }
        ctx.Reply.WriteInteger(count);
    }

    private static void Type(CommandContext ctx, in CommandArgs args)
    {
        var entry = ctx.Db.LookupReadNoTouch(args[1]);
        ctx.Reply.WriteSimpleString(!entry.Exists ? "none"u8 : entry.Kind switch
        {
            ValueKind.String => "string"u8,
            ValueKind.List => "list"u8,
            ValueKind.Set => "set"u8,
            ValueKind.SortedSet => "zset"u8,
            _ => "hash"u8,
        });
    }

    // ------------------------------------------------------------------
    // RENAME, RENAMENX, MOVE
    // ------------------------------------------------------------------

    private static void Rename(CommandContext ctx, in CommandArgs args) => RenameKey(ctx, args, onlyIfNew: false);

    private static void RenameNx(CommandContext ctx, in CommandArgs args) => RenameKey(ctx, args, onlyIfNew: true);

    private static void RenameKey(CommandContext ctx, in CommandArgs args, bool onlyIfNew)
    {
        var db = ctx.Db;
        var source = args[1];
        var destination = args[2];
        if (!db.LookupWrite(source).Exists)
        {
            ctx.Reply.WriteError(ErrorReplies.NoSuchKey);
            return;
        }
        if (source.SequenceEqual(destination))
        {
            // Renaming a key to itself changes nothing (and is not propagated).
            if (onlyIfNew)
                ctx.Reply.WriteInteger(0);
            else
                ctx.Reply.WriteOk();
            return;
        }
        if (db.LookupWrite(destination).Exists && onlyIfNew)
        {
            ctx.Reply.WriteInteger(0);
            return;
        }
        ctx.Keyspace.Rename(db.Index, source, db.Index, destination);
        ctx.Notify(KeyspaceEventClass.Generic, "rename_from"u8, db.Index, source);
        ctx.Notify(KeyspaceEventClass.Generic, "rename_to"u8, db.Index, destination);
        if (onlyIfNew)
            ctx.Reply.WriteInteger(1);
        else
            ctx.Reply.WriteOk();
    }

    private static void Move(CommandContext ctx, in CommandArgs args)
    {
        if (!ctx.TryParseInt32(args[2], out int target))
            return;
        if (target < 0 || target >= ctx.Keyspace.DatabaseCount)
        {
            ctx.Reply.WriteError(ErrorReplies.DbIndexOutOfRange);
            return;
        }
        var db = ctx.Db;
        if (target == db.Index)
        {
            ctx.Reply.WriteError("ERR source and destination objects are the same"u8);
            return;
        }
        var key = args[1];
        if (!db.LookupWrite(key).Exists || ctx.Keyspace[target].LookupWrite(key).Exists)
        {
            ctx.Reply.WriteInteger(0);
            return;
        }
        ctx.Keyspace.Rename(db.Index, key, target, key);
        ctx.Notify(KeyspaceEventClass.Generic, "move_from"u8, db.Index, key);
        ctx.Notify(KeyspaceEventClass.Generic, "move_to"u8, target, key);
        ctx.Reply.WriteInteger(1);
    }

    // ------------------------------------------------------------------
    // EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, PERSIST
    // ------------------------------------------------------------------

    private static void Expire(CommandContext ctx, in CommandArgs args) => SetExpiry(ctx, args, ctx.Keyspace.NowMs, seconds: true);

    private static void PExpire(CommandContext ctx, in CommandArgs args) => SetExpiry(ctx, args, ctx.Keyspace.NowMs, seconds: false);

    private static void ExpireAt(CommandContext ctx, in CommandArgs args) => SetExpiry(ctx, args, 0, seconds: true);

    private static void PExpireAt(CommandContext ctx, in CommandArgs args) => SetExpiry(ctx, args, 0, seconds: false);

    [Flags]
    private enum ExpireFlags
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Gt = 4,
        Lt = 8,
    }

    /// <summary>
    /// The EXPIRE family (7.0's, with NX|XX|GT|LT): propagated as <c>PEXPIREAT key abs [options]</c>; a time
    /// already past deletes the key (on a master) and is propagated as <c>DEL key</c>.
    /// </summary>
    private static void SetExpiry(CommandContext ctx, in CommandArgs args, long baseMs, bool seconds)
    {
        var flags = ExpireFlags.None;
        for (int i = 3; i < args.Count; i++)
        {
            var option = args[i];
            if (Keyword.Is(option, "NX"u8))
                flags |= ExpireFlags.Nx;
            else if (Keyword.Is(option, "XX"u8))
                flags |= ExpireFlags.Xx;
            else if (Keyword.Is(option, "GT"u8))
                flags |= ExpireFlags.Gt;
            else if (Keyword.Is(option, "LT"u8))
                flags |= ExpireFlags.Lt;
            else
            {
                ctx.Reply.WriteError("ERR Unsupported option " + ErrorReplies.CText(option, int.MaxValue));
                return;
            }
        }
        if ((flags & ExpireFlags.Nx) != 0 && (flags & (ExpireFlags.Xx | ExpireFlags.Gt | ExpireFlags.Lt)) != 0)
        {
            ctx.Reply.WriteError("ERR NX and XX, GT or LT options at the same time are not compatible"u8);
            return;
        }
        if ((flags & (ExpireFlags.Gt | ExpireFlags.Lt)) == (ExpireFlags.Gt | ExpireFlags.Lt))
        {
            ctx.Reply.WriteError("ERR GT and LT options at the same time are not compatible"u8);
            return;
        }
        if (!Numbers.TryParseInt64(args[2], out long when))
        {
            ctx.NotInteger();
            return;
        }
        if (seconds)
        {
            if (when > long.MaxValue / 1000 || when < long.MinValue / 1000)
            {
                StringCommands.InvalidExpireTime(ctx);
                return;
            }
            when *= 1000;
        }
        if (when > long.MaxValue - baseMs)
        {
            StringCommands.InvalidExpireTime(ctx);
            return;
        }
        when += baseMs;

        var db = ctx.Db;
        var key = args[1];
        var entry = db.LookupWrite(key);
        if (!entry.Exists)
        {
            ctx.Reply.WriteInteger(0);
            return;
        }
        if (flags != ExpireFlags.None)
        {
            long currentExpire = entry.ExpireAt;
            bool refused = ((flags & ExpireFlags.Nx) != 0 && currentExpire != -1)
                || ((flags & ExpireFlags.Xx) != 0 && currentExpire == -1)
                || ((flags & ExpireFlags.Gt) != 0 && (currentExpire == -1 || when <= currentExpire))
                || ((flags & ExpireFlags.Lt) != 0 && currentExpire != -1 && when >= currentExpire);
            if (refused)
            {
                ctx.Reply.WriteInteger(0);
                return;
            }
        }

        // A replica keeps the key (its master's DEL will come); a master deletes it now.
        if (when <= ctx.Keyspace.NowMs && ctx.Keyspace.ExpiryMode == ExpiryMode.Delete)
        {
            db.Delete(key);
            ctx.Reply.WriteInteger(1);
            ctx.Notify(KeyspaceEventClass.Generic, "del"u8, db.Index, key);
            var del = ctx.Propagate(2);
            del.WriteBulk("DEL"u8);
            del.WriteBulk(key);
            return;
        }
        db.SetExpire(key, Math.Max(when, 0));
        ctx.Reply.WriteInteger(1);
        ctx.Notify(KeyspaceEventClass.Generic, "expire"u8, db.Index, key);
        var p = ctx.Propagate(args.Count);
        p.WriteBulk("PEXPIREAT"u8);
        p.WriteBulk(key);
        p.WriteBulk(when);
        for (int i = 3; i < args.Count; i++)
            p.WriteBulk(args[i]);
    }

    private static void Ttl(CommandContext ctx, in CommandArgs args) => TimeToLive(ctx, args[1], milliseconds: false);

    private static void PTtl(CommandContext ctx, in CommandArgs args) => TimeToLive(ctx, args[1], milliseconds: true);

    private static void TimeToLive(CommandContext ctx, ReadOnlySpan<byte> key, bool milliseconds)
    {
        var entry = ctx.Db.LookupReadNoTouch(key);
        if (!entry.Exists)
        {
            ctx.Reply.WriteInteger(-2);
            return;
        }
        if (entry.ExpireAt < 0)
        {
            ctx.Reply.WriteInteger(-1);
            return;
        }
        long ttl = Math.Max(0, entry.ExpireAt - ctx.Keyspace.NowMs);
        ctx.Reply.WriteInteger(milliseconds ? ttl : (ttl + 500) / 1000);
    }

    private static void Persist(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var entry = db.LookupWrite(args[1]);
        bool removed = entry.Exists && entry.ExpireAt >= 0 && db.Persist(args[1]);
        ctx.Reply.WriteInteger(removed ? 1 : 0);
        if (removed)
            ctx.Notify(KeyspaceEventClass.Generic, "persist"u8, args[1]);
    }

    // ------------------------------------------------------------------
    // KEYS, SCAN, RANDOMKEY
    // ------------------------------------------------------------------

    private static void Keys(CommandContext ctx, in CommandArgs args)
    {
        var pattern = args[1];
        bool all = GlobMatcher.MatchesAll(pattern);
        byte[] ownPattern = all ? Array.Empty<byte>() : pattern.ToArray();
        // Keys are written into a side buffer first: the array header needs their count.
        var keys = new ByteBufferWriter(256);
        long count = 0;
        ctx.Keyspace.ForEachKey(ctx.Client.Db, (ReadOnlySpan<byte> key, in Entry _) =>
        {
            if (all || GlobMatcher.IsMatch(ownPattern, key))
            {
                keys.WriteBulk(key);
                count++;
            }
        });
        ctx.Reply.WriteArrayHeader(count);
        ctx.Reply.WriteRaw(keys.WrittenSpan);
    }

    /// <summary>SCAN cursor [MATCH pattern] [COUNT count] [TYPE type].</summary>
    private static void Scan(CommandContext ctx, in CommandArgs args)
    {
        if (!CollectionHelpers.TryParseCursor(ctx, args[1], out ulong cursor))
            return;
        long count = 10;
        byte[]? pattern = null;
        byte[]? typeName = null;
        for (int i = 2; i < args.Count; i += 2)
        {
            bool hasValue = i + 1 < args.Count;
            if (hasValue && Keyword.Is(args[i], "COUNT"u8))
            {
                if (!Numbers.TryParseInt64(args[i + 1], out count))
                {
                    ctx.NotInteger();
                    return;
                }
                if (count < 1)
                {
                    ctx.SyntaxError();
                    return;
                }
            }
            else if (hasValue && Keyword.Is(args[i], "MATCH"u8))
            {
                pattern = GlobMatcher.MatchesAll(args[i + 1]) ? null : args[i + 1].ToArray();
            }
            else if (hasValue && Keyword.Is(args[i], "TYPE"u8))
            {
                typeName = args[i + 1].ToArray();
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }

        var keys = new ByteBufferWriter(256);
        long found = 0;
        ulong next = ctx.Keyspace.Scan(ctx.Client.Db, cursor, count, (ReadOnlySpan<byte> key, in Entry entry) =>
        {
            if (pattern is not null && !GlobMatcher.IsMatch(pattern, key))
                return;
            if (typeName is not null && !Keyword.Is(typeName, TypeName(entry.Kind)))
                return;
            keys.WriteBulk(key);
            found++;
        });
        var reply = ctx.Reply;
        reply.WriteArrayHeader(2);
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(next, digits, out int n);
        reply.WriteBulk(digits[..n]);
        reply.WriteArrayHeader(found);
        reply.WriteRaw(keys.WrittenSpan);
    }

    private static void RandomKey(CommandContext ctx, in CommandArgs args)
    {
        var key = ctx.Keyspace.RandomKey(ctx.Client.Db);
        if (key is null)
            ctx.Reply.WriteNullBulk();
        else
            ctx.Reply.WriteBulk(key);
    }

    // ------------------------------------------------------------------
    // OBJECT
    // ------------------------------------------------------------------

    private static readonly string[] s_objectHelp =
    {
        "ENCODING <key>",
        "    Answer how the value at <key> is held in memory (int, embstr, listpack, hashtable...).",
        "FREQ <key>",
        "    Answer the key's logarithmic access counter (with an LFU maxmemory-policy only).",
        "IDLETIME <key>",
        "    Answer the seconds since the key was last read or written (with an LRU policy or none).",
        "REFCOUNT <key>",
        "    Answer the reference count of the value at <key>.",
    };

    /// <summary>OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key, OBJECT HELP (7.0's subcommands and their arities).</summary>
    private static void Object(CommandContext ctx, in CommandArgs args)
    {
        var sub = args[1];
        // Unknown subcommands and wrong arities were refused by the dispatcher (declared in Register).
        if (Keyword.Is(sub, "HELP"u8))
        {
            HelpReply.Write(ctx.Reply, "OBJECT", s_objectHelp);
            return;
        }

        // Looked up without touching the access time (LOOKUP_NOTOUCH), expiry applied.
        var db = ctx.Db;
        var key = args[2];
        if (!db.Exists(key))
        {
            ctx.Reply.WriteNullBulk();
            return;
        }
        var entry = db.Peek(key);
        if (Keyword.Is(sub, "ENCODING"u8))
        {
            ctx.Reply.WriteBulk(Encoding.ASCII.GetBytes(EncodingName(ctx, entry)));
        }
        else if (Keyword.Is(sub, "REFCOUNT"u8))
        {
            ctx.Reply.WriteInteger(RefCount(ctx, entry));
        }
        else if (Keyword.Is(sub, "IDLETIME"u8))
        {
            if (ctx.Options.MaxMemoryPolicy.IsLfu())
                ctx.Reply.WriteError("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."u8);
            else
                ctx.Reply.WriteInteger(ctx.Keyspace.IdleSeconds(entry));
        }
        else if (ctx.Options.MaxMemoryPolicy.IsLfu())
        {
            ctx.Reply.WriteInteger(ctx.Keyspace.Frequency(entry));
        }
        else
        {
            ctx.Reply.WriteError("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."u8);
        }
    }

    /// <summary>
    /// What OBJECT ENCODING says for a value. Strings are judged by their bytes, as Redis's tryObjectEncoding
    /// judges a value it stores ("int", "embstr" up to 44 bytes, "raw" beyond), unless the command that made
    /// them left a hint (APPEND's "raw", INCRBYFLOAT's never "int").
    /// </summary>
    private static string EncodingName(CommandContext ctx, in Entry entry)
    {
        if (entry.Kind != ValueKind.String)
        {
            var o = ctx.Options;
            var limits = new EncodingLimits(o.HashMaxZiplistEntries, o.HashMaxZiplistValue, o.ListMaxZiplistEntries, o.ListMaxZiplistValue,
                o.SetMaxIntsetEntries, o.ZsetMaxZiplistEntries, o.ZsetMaxZiplistValue);
            return entry.Object!.EncodingName(limits);
        }
        if (IsIntEncoded(entry, out _))
            return "int";
        return entry.String.Length <= 44 && entry.EncodingHint != StringEncodingHint.Raw ? "embstr" : "raw";
    }

    /// <summary>True when Redis holds the string as a long: stored as SET stores (string2l on at most 20 bytes).</summary>
    /// <summary>
    /// The refcount Redis would report: its shared objects for the integers 0..9999 count INT_MAX, but under
    /// maxmemory with an LRU or LFU policy Redis gives every value its own object (refcount 1). Decided from
    /// the configuration now: a value stored under the other setting reports what it would have been now.
    /// </summary>
    internal static int RefCount(CommandContext ctx, in Entry entry)
    {
        bool sharing = ctx.Options.MaxMemory == 0 || !ctx.Options.MaxMemoryPolicy.RanksByAccess();
        bool shared = sharing && entry.Kind == ValueKind.String && IsIntEncoded(entry, out long v) && v is >= 0 and < 10000;
        return shared ? int.MaxValue : 1;
    }

    private static bool IsIntEncoded(in Entry entry, out long number)
    {
        number = 0;
        return entry.EncodingHint == StringEncodingHint.ByContent && entry.String.Length <= 20 && Numbers.TryParseInt64(entry.String, out number);
    }

    private static ReadOnlySpan<byte> TypeName(ValueKind kind) => kind switch
    {
        ValueKind.String => "string"u8,
        ValueKind.List => "list"u8,
        ValueKind.Set => "set"u8,
        ValueKind.SortedSet => "zset"u8,
        _ => "hash"u8,
    };
}
