using System.Buffers.Text;
using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>Hash commands (Redis 7.0's replies and errors; HSET takes many pairs).</summary>
internal static partial class HashCommands
{
    public static void Register(CommandTable table)
    {
        const CommandFlags write = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;
        const CommandFlags read = CommandFlags.ReadOnly | CommandFlags.Fast;
        table.Add("hset", -4, write, HSet, 1, 1, 1);
        table.Add("hmset", -4, write, HMSet, 1, 1, 1);
        table.Add("hsetnx", 4, write, HSetNx, 1, 1, 1);
        table.Add("hget", 3, read, HGet, 1, 1, 1);
        table.Add("hmget", -3, read, HMGet, 1, 1, 1);
        table.Add("hdel", -3, CommandFlags.Write | CommandFlags.Fast, HDel, 1, 1, 1);
        table.Add("hlen", 2, read, HLen, 1, 1, 1);
        table.Add("hstrlen", 3, read, HStrLen, 1, 1, 1);
        table.Add("hexists", 3, read, HExists, 1, 1, 1);
        table.Add("hincrby", 4, write, HIncrBy, 1, 1, 1);
        table.Add("hincrbyfloat", 4, write, HIncrByFloat, 1, 1, 1);
        table.Add("hkeys", 2, CommandFlags.ReadOnly | CommandFlags.SortForScript, HKeys, 1, 1, 1);
        table.Add("hvals", 2, CommandFlags.ReadOnly | CommandFlags.SortForScript, HVals, 1, 1, 1);
        table.Add("hgetall", 2, CommandFlags.ReadOnly | CommandFlags.Random, HGetAll, 1, 1, 1);
        table.Add("hscan", -3, CommandFlags.ReadOnly | CommandFlags.Random, HScan, 1, 1, 1);
        table.Add("hrandfield", -2, CommandFlags.ReadOnly | CommandFlags.Random, HRandField, 1, 1, 1);
    }

    /// <summary>The hash at the key for writing: null (and WRONGTYPE replied) when the key holds another type; a new, unstored hash when missing.</summary>
    private static HashObject? ForWrite(CommandContext ctx, ReadOnlySpan<byte> key, out bool created)
    {
        var entry = ctx.Db.LookupWrite(key);
        created = !entry.Exists;
        if (created)
            return new HashObject();
        if (entry.Kind != ValueKind.Hash)
        {
            ctx.WrongType();
            return null;
        }
        return entry.As<HashObject>();
    }

    /// <summary>The hash at the key for reading: null when missing or (with WRONGTYPE replied) of another type.</summary>
    private static HashObject? ForRead(CommandContext ctx, ReadOnlySpan<byte> key, out bool wrongType)
    {
        var entry = ctx.Db.LookupRead(key);
        wrongType = entry.IsNot(ValueKind.Hash);
        if (wrongType)
        {
            ctx.WrongType();
            return null;
        }
        return entry.Exists ? entry.As<HashObject>() : null;
    }

    /// <summary>Stores a hash made by <see cref="ForWrite"/>, or records the change to an existing one; then the command's event.</summary>
    private static void Commit(CommandContext ctx, ReadOnlySpan<byte> key, HashObject hash, bool created, long changes, ReadOnlySpan<byte> eventName)
    {
        if (created)
            ctx.Db.SetObject(key, hash);
        else
            ctx.Db.Modified(key, changes);
        ctx.Notify(KeyspaceEventClass.Hash, eventName, key);
    }

    private static void HSet(CommandContext ctx, in CommandArgs args) => SetPairs(ctx, args, replyOk: false);

    private static void HMSet(CommandContext ctx, in CommandArgs args) => SetPairs(ctx, args, replyOk: true);

    private static void SetPairs(CommandContext ctx, in CommandArgs args, bool replyOk)
    {
        if ((args.Count & 1) != 0)
        {
            ctx.WrongArgCount();
            return;
        }
        var key = args[1];
        var hash = ForWrite(ctx, key, out bool created);
        if (hash is null)
            return;
        long added = 0;
        for (int i = 2; i < args.Count; i += 2)
        {
            if (hash.Set(args[i], args[i + 1]))
                added++;
        }
        Commit(ctx, key, hash, created, (args.Count - 2) / 2, "hset"u8);
        if (replyOk)
            ctx.Reply.WriteOk();
        else
            ctx.Reply.WriteInteger(added);
    }

    private static void HSetNx(CommandContext ctx, in CommandArgs args)
    {
        var key = args[1];
        var hash = ForWrite(ctx, key, out bool created);
        if (hash is null)
            return;
        if (hash.Contains(args[2]))
        {
            ctx.Reply.WriteInteger(0);
            return;
        }
        hash.Set(args[2], args[3]);
        Commit(ctx, key, hash, created, 1, "hset"u8);
        ctx.Reply.WriteInteger(1);
    }

    private static void HGet(CommandContext ctx, in CommandArgs args)
    {
        var hash = ForRead(ctx, args[1], out bool wrongType);
        if (wrongType)
            return;
        if (hash is not null && hash.TryGetSpan(args[2], out var value))
            ctx.Reply.WriteBulk(value);
        else
            ctx.Reply.WriteNullBulk();
    }

    private static void HMGet(CommandContext ctx, in CommandArgs args)
    {
        var hash = ForRead(ctx, args[1], out bool wrongType);
        if (wrongType)
            return;
        ctx.Reply.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
        {
            if (hash is not null && hash.TryGetSpan(args[i], out var value))
                ctx.Reply.WriteBulk(value);
            else
                ctx.Reply.WriteNullBulk();
        }
    }

    private static void HDel(CommandContext ctx, in CommandArgs args)
    {
        var key = args[1];
        var entry = ctx.Db.LookupWrite(key);
        if (!entry.Exists)
        {
            ctx.Reply.WriteInteger(0);
            return;
        }
        if (entry.Kind != ValueKind.Hash)
        {
            ctx.WrongType();
            return;
        }
        var hash = entry.As<HashObject>();
        long deleted = 0;
        for (int i = 2; i < args.Count; i++)
        {
            if (hash.Remove(args[i]))
            {
                deleted++;
                if (hash.Count == 0)
                    break;
            }
        }
        if (deleted > 0)
            CollectionHelpers.AfterRemoval(ctx.Notifier, ctx.Db, key, hash, deleted, KeyspaceEventClass.Hash, "hdel"u8);
        ctx.Reply.WriteInteger(deleted);
    }

    private static void HLen(CommandContext ctx, in CommandArgs args)
    {
        var hash = ForRead(ctx, args[1], out bool wrongType);
        if (!wrongType)
            ctx.Reply.WriteInteger(hash?.Count ?? 0);
    }

    private static void HStrLen(CommandContext ctx, in CommandArgs args)
    {
        var hash = ForRead(ctx, args[1], out bool wrongType);
        if (wrongType)
            return;
        ctx.Reply.WriteInteger(hash is not null && hash.TryGetSpan(args[2], out var value) ? value.Length : 0);
    }

    private static void HExists(CommandContext ctx, in CommandArgs args)
    {
        var hash = ForRead(ctx, args[1], out bool wrongType);
        if (!wrongType)
            ctx.Reply.WriteInteger(hash is not null && hash.Contains(args[2]) ? 1 : 0);
    }

    private static void HIncrBy(CommandContext ctx, in CommandArgs args)
    {
        if (!Numbers.TryParseInt64(args[3], out long increment))
        {
            ctx.NotInteger();
            return;
        }
        var key = args[1];
        var hash = ForWrite(ctx, key, out bool created);
        if (hash is null)
            return;
        long current = 0;
        if (hash.TryGetSpan(args[2], out var old) && !Numbers.TryParseInt64(old, out current))
        {
            ctx.Reply.WriteError("ERR hash value is not an integer");
            return;
        }
        if ((increment < 0 && current < 0 && increment < long.MinValue - current)
            || (increment > 0 && current > 0 && increment > long.MaxValue - current))
        {
            ctx.Reply.WriteError(ErrorReplies.Overflow);
            return;
        }
        long result = current + increment;
        Span<byte> text = stackalloc byte[20];
        Utf8Formatter.TryFormat(result, text, out int n);
        hash.Set(args[2], text[..n]);
        Commit(ctx, key, hash, created, 1, "hincrby"u8);
        ctx.Reply.WriteInteger(result);
    }

    private static void HIncrByFloat(CommandContext ctx, in CommandArgs args)
    {
        if (!LongDouble.TryParse(args[3], out var increment))
        {
            ctx.Reply.WriteError(ErrorReplies.NotFloat);
            return;
        }
        if (increment.IsInfinity)
        {
            ctx.Reply.WriteError("ERR value is NaN or Infinity");
            return;
        }
        var key = args[1];
        var hash = ForWrite(ctx, key, out bool created);
        if (hash is null)
            return;
        var current = LongDouble.Zero;
        if (hash.TryGetSpan(args[2], out var old))
        {
            if (!LongDouble.TryParse(old, out current))
            {
                ctx.Reply.WriteError("ERR hash value is not a float");
                return;
            }
            // An infinite stored value makes an infinite sum, refused as such.
            if (current.IsInfinity)
            {
                ctx.Reply.WriteError(ErrorReplies.IncrementNotFinite);
                return;
            }
        }
        var sum = LongDouble.Add(current, increment);
        if (sum.IsInfinity)
        {
            ctx.Reply.WriteError(ErrorReplies.IncrementNotFinite);
            return;
        }
        string text = sum.ToHumanString();
        Span<byte> bytes = stackalloc byte[text.Length];
        for (int i = 0; i < text.Length; i++)
            bytes[i] = (byte)text[i];
        hash.Set(args[2], bytes);
        Commit(ctx, key, hash, created, 1, "hincrbyfloat"u8);
        ctx.Reply.WriteBulk(bytes);

        // The sum's text travels as an HSET, so replicas store exactly the same bytes.
        var p = ctx.Propagate(4);
        p.WriteBulk("HSET"u8);
        p.WriteBulk(key);
        p.WriteBulk(args[2]);
        p.WriteBulk(bytes);
    }

    private static void HKeys(CommandContext ctx, in CommandArgs args) => WriteAll(ctx, args[1], fields: true, values: false);

    private static void HVals(CommandContext ctx, in CommandArgs args) => WriteAll(ctx, args[1], fields: false, values: true);

    private static void HGetAll(CommandContext ctx, in CommandArgs args) => WriteAll(ctx, args[1], fields: true, values: true);

    private static void WriteAll(CommandContext ctx, ReadOnlySpan<byte> key, bool fields, bool values)
    {
        var hash = ForRead(ctx, key, out bool wrongType);
        if (wrongType)
            return;
        long count = hash?.Count ?? 0;
        // HGETALL is a map under RESP3; HKEYS and HVALS stay arrays.
        if (fields && values)
            ctx.Reply.WriteMapHeader(count);
        else
            ctx.Reply.WriteArrayHeader(count);
        if (hash is null)
            return;
        var reply = ctx.Reply;
        int slots = hash.SlotCount;
        for (int i = 0; i < slots; i++)
        {
            if (!hash.TryGetSlot(i, out var field, out var value))
                continue;
            if (fields)
                reply.WriteBulk(field);
            if (values)
                reply.WriteBulk(value);
        }
    }

    /// <summary>HSCAN key cursor [MATCH pattern] [COUNT count].</summary>
    private static void HScan(CommandContext ctx, in CommandArgs args)
    {
        if (!CollectionHelpers.TryParseCursor(ctx, args[2], out ulong cursor))
            return;
        var hash = ForRead(ctx, args[1], out bool wrongType);
        if (wrongType)
            return;
        var reply = ctx.Reply;
        if (hash is null)
        {
            reply.WriteRaw("*2\r\n$1\r\n0\r\n*0\r\n"u8);
            return;
        }
        if (!ScanArgs.TryParseOptions(ctx, args, 3, out var pattern, out long count))
            return;
        bool matchAll = pattern.IsEmpty || GlobMatcher.MatchesAll(pattern);
        var limits = new EncodingLimits(HashMaxZiplistEntries: ctx.Options.HashMaxZiplistEntries, HashMaxZiplistValue: ctx.Options.HashMaxZiplistValue);
        var slots = ctx.Scratch.Ints;
        slots.Clear();
        ulong next;
        if (hash.EncodingName(limits) == "ziplist")
        {
            // A compact hash is returned whole, whatever the cursor (as Redis does for its listpack encoding).
            for (int i = 0; i < hash.SlotCount; i++)
            {
                if (hash.TryGetSlot(i, out _, out _))
                    slots.Add(i);
            }
            next = 0;
        }
        else
        {
            next = hash.Scan(cursor, count, slots);
        }
        int matched = 0;
        if (!matchAll)
        {
            for (int i = 0; i < slots.Count; i++)
            {
                hash.TryGetSlot(slots[i], out var field, out _);
                if (GlobMatcher.IsMatch(pattern, field))
                    slots[matched++] = slots[i];
            }
        }
        else
        {
            matched = slots.Count;
        }
        reply.WriteArrayHeader(2);
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(next, digits, out int n);
        reply.WriteBulk(digits[..n]);
        reply.WriteArrayHeader(matched * 2L);
        for (int i = 0; i < matched; i++)
        {
            hash.TryGetSlot(slots[i], out var field, out var value);
            reply.WriteBulk(field);
            reply.WriteBulk(value);
        }
        slots.Clear();
    }

    /// <summary>The cursor and options of the SCAN family, parsed as Redis 7.0 does.</summary>
    private static class ScanArgs
    {
        /// <summary>MATCH and COUNT from argument <paramref name="first"/> on; replies the error and returns false when invalid.</summary>
        public static bool TryParseOptions(CommandContext ctx, in CommandArgs args, int first, out ReadOnlySpan<byte> pattern, out long count)
        {
            pattern = default;
            count = 10;
            for (int i = first; i < args.Count; i += 2)
            {
                if (i + 1 >= args.Count)
                {
                    ctx.SyntaxError();
                    return false;
                }
                if (Keyword.Is(args[i], "COUNT"u8))
                {
                    if (!Numbers.TryParseInt64(args[i + 1], out count))
                    {
                        ctx.NotInteger();
                        return false;
                    }
                    if (count < 1)
                    {
                        ctx.SyntaxError();
                        return false;
                    }
                }
                else if (Keyword.Is(args[i], "MATCH"u8))
                {
                    pattern = args[i + 1];
                }
                else
                {
                    ctx.SyntaxError();
                    return false;
                }
            }
            return true;
        }
    }
}
