using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>
/// SET's and GETEX's shared options (Redis's parseExtendedStringArgumentsOrReply), and the string commands of
/// Redis 6.2 and 7.0: GETDEL, GETEX, LCS.
/// </summary>
internal static partial class StringCommands
{
    [Flags]
    private enum SetFlags
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Get = 4,
        KeepTtl = 8,
        Ex = 16,
        Px = 32,
        ExAt = 64,
        PxAt = 128,
        Persist = 256,
        AnyExpire = Ex | Px | ExAt | PxAt,
    }

    /// <summary>
    /// Reads SET's options (<paramref name="forSet"/>) or GETEX's from <paramref name="first"/> on, as Redis 7.0
    /// does: an option may repeat (the last time wins) but never meet a conflicting one; EX/PX/EXAT/PXAT need a
    /// value, whose index is <paramref name="expireArg"/> (0 without). False after a syntax error.
    /// </summary>
    private static bool TryParseStringOptions(CommandContext ctx, in CommandArgs args, int first, bool forSet, out SetFlags flags, out int expireArg)
    {
        flags = SetFlags.None;
        expireArg = 0;
        for (int i = first; i < args.Count; i++)
        {
            var a = args[i];
            bool hasNext = i + 1 < args.Count;
            if (forSet && Keyword.Is(a, "NX"u8) && (flags & SetFlags.Xx) == 0)
                flags |= SetFlags.Nx;
            else if (forSet && Keyword.Is(a, "XX"u8) && (flags & SetFlags.Nx) == 0)
                flags |= SetFlags.Xx;
            else if (forSet && Keyword.Is(a, "GET"u8))
                flags |= SetFlags.Get;
            else if (forSet && Keyword.Is(a, "KEEPTTL"u8) && (flags & SetFlags.AnyExpire) == 0)
                flags |= SetFlags.KeepTtl;
            else if (!forSet && Keyword.Is(a, "PERSIST"u8) && (flags & SetFlags.AnyExpire) == 0)
                flags |= SetFlags.Persist;
            else if (hasNext && ExpireUnit(a) is var unit && unit != SetFlags.None
                     && (flags & (SetFlags.KeepTtl | SetFlags.Persist | (SetFlags.AnyExpire & ~unit))) == 0)
            {
                flags |= unit;
                expireArg = ++i;
            }
            else
            {
                ctx.SyntaxError();
                return false;
            }
        }
        return true;
    }

    private static SetFlags ExpireUnit(ReadOnlySpan<byte> arg)
    {
        if (Keyword.Is(arg, "EX"u8))
            return SetFlags.Ex;
        if (Keyword.Is(arg, "PX"u8))
            return SetFlags.Px;
        if (Keyword.Is(arg, "EXAT"u8))
            return SetFlags.ExAt;
        if (Keyword.Is(arg, "PXAT"u8))
            return SetFlags.PxAt;
        return SetFlags.None;
    }

    /// <summary>
    /// The absolute expiry (unix ms) an EX/PX/EXAT/PXAT value gives, as getExpireMillisecondsOrReply computes
    /// it: not positive, or overflowing, is "invalid expire time in '&lt;command&gt;' command".
    /// </summary>
    private static bool TryParseExpireAt(CommandContext ctx, ReadOnlySpan<byte> text, SetFlags unit, out long expireAt)
    {
        expireAt = -1;
        if (!Numbers.TryParseInt64(text, out long amount))
        {
            ctx.NotInteger();
            return false;
        }
        bool seconds = (unit & (SetFlags.Ex | SetFlags.ExAt)) != 0;
        if (amount <= 0 || (seconds && amount > long.MaxValue / 1000))
        {
            InvalidExpireTime(ctx);
            return false;
        }
        long ms = seconds ? amount * 1000 : amount;
        if ((unit & (SetFlags.Ex | SetFlags.Px)) != 0)
        {
            if (ms > long.MaxValue - ctx.Keyspace.NowMs)
            {
                InvalidExpireTime(ctx);
                return false;
            }
            ms += ctx.Keyspace.NowMs;
        }
        expireAt = ms;
        return true;
    }

    /// <summary>GETDEL key: the value, then the key deleted; propagated as DEL.</summary>
    private static void GetDel(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var key = args[1];
        // A read lookup, as Redis's (a miss is a keymiss event); the writes below preserve the value for a snapshot.
        if (!CollectionHelpers.LookupOrNil(ctx, key, ValueKind.String, out var entry))
            return;
        ctx.Reply.WriteBulk(entry.String);
        db.Delete(key);
        ctx.Notify(KeyspaceEventClass.Generic, "del"u8, key);
        var p = ctx.Propagate(2);
        p.WriteBulk("DEL"u8);
        p.WriteBulk(key);
    }

    /// <summary>
    /// GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]: the value, and its time to live changed. Propagated as
    /// <c>PEXPIREAT key abs</c>, <c>PERSIST key</c>, or <c>DEL key</c> when the time is already past on a
    /// master. The key is looked up before the time is read: a missing key answers nil whatever the value.
    /// </summary>
    private static void GetEx(CommandContext ctx, in CommandArgs args)
    {
        if (!TryParseStringOptions(ctx, args, 2, forSet: false, out var flags, out int expireArg))
            return;
        var db = ctx.Db;
        var key = args[1];
        // A read lookup, as Redis's (a miss is a keymiss event); the writes below preserve the value for a snapshot.
        if (!CollectionHelpers.LookupOrNil(ctx, key, ValueKind.String, out var entry))
            return;
        long expireAt = -1;
        if (expireArg != 0 && !TryParseExpireAt(ctx, args[expireArg], flags, out expireAt))
            return;
        bool hadExpiry = entry.ExpireAt >= 0;
        ctx.Reply.WriteBulk(entry.String);
        if (expireArg != 0)
        {
            // A replica keeps the key (its master's DEL will come); a master deletes it now.
            if (expireAt <= ctx.Keyspace.NowMs && ctx.Keyspace.ExpiryMode == ExpiryMode.Delete)
            {
                db.Delete(key);
                ctx.Notify(KeyspaceEventClass.Generic, "del"u8, key);
                var del = ctx.Propagate(2);
                del.WriteBulk("DEL"u8);
                del.WriteBulk(key);
                return;
            }
            db.SetExpire(key, expireAt);
            ctx.Notify(KeyspaceEventClass.Generic, "expire"u8, key);
            var p = ctx.Propagate(3);
            p.WriteBulk("PEXPIREAT"u8);
            p.WriteBulk(key);
            p.WriteBulk(expireAt);
        }
        else if ((flags & SetFlags.Persist) != 0 && hadExpiry && db.Persist(key))
        {
            ctx.Notify(KeyspaceEventClass.Generic, "persist"u8, key);
            var p = ctx.Propagate(2);
            p.WriteBulk("PERSIST"u8);
            p.WriteBulk(key);
        }
    }

    /// <summary>
    /// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: the longest common subsequence of two strings
    /// (missing keys are empty), by Redis's dynamic-programming table and its walk back from the end, so that
    /// the matched ranges are Redis's, in its order (last first).
    /// </summary>
    private static void Lcs(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var first = db.LookupRead(args[1]);
        bool firstWrong = first.IsNot(ValueKind.String);
        byte[] a = first.Exists && !firstWrong ? first.String.ToArray() : [];
        var second = db.LookupRead(args[2]);
        if (firstWrong || second.IsNot(ValueKind.String))
        {
            ctx.Reply.WriteError("ERR The specified keys must contain string values"u8);
            return;
        }
        byte[] b = second.Exists ? second.String.ToArray() : [];
        bool getLength = false, getIndexes = false, withMatchLength = false;
        long minMatchLength = 0;
        for (int i = 3; i < args.Count; i++)
        {
            var option = args[i];
            if (Keyword.Is(option, "IDX"u8))
                getIndexes = true;
            else if (Keyword.Is(option, "LEN"u8))
                getLength = true;
            else if (Keyword.Is(option, "WITHMATCHLEN"u8))
                withMatchLength = true;
            else if (Keyword.Is(option, "MINMATCHLEN"u8) && i + 1 < args.Count)
            {
                if (!Numbers.TryParseInt64(args[++i], out minMatchLength))
                {
                    ctx.NotInteger();
                    return;
                }
                if (minMatchLength < 0)
                    minMatchLength = 0;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        if (getIndexes && getLength)
        {
            ctx.Reply.WriteError("ERR If you want both the length and indexes, please just use IDX."u8);
            return;
        }
        long cells = (long)(a.Length + 1) * (b.Length + 1);
        if (cells * sizeof(uint) > ctx.Options.ProtoMaxBulkLen || cells > Array.MaxLength)
        {
            ctx.Reply.WriteError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"u8);
            return;
        }
        int width = b.Length + 1;
        var table = new uint[cells];
        for (int i = 1; i <= a.Length; i++)
        {
            for (int j = 1; j <= b.Length; j++)
            {
                table[i * width + j] = a[i - 1] == b[j - 1]
                    ? table[(i - 1) * width + j - 1] + 1
                    : Math.Max(table[(i - 1) * width + j], table[i * width + j - 1]);
            }
        }
        int length = (int)table[a.Length * width + b.Length];
        if (getLength)
        {
            ctx.Reply.WriteInteger(length);
            return;
        }
        var common = new byte[length];
        var ranges = getIndexes ? new List<(int AStart, int AEnd, int BStart, int BEnd)>() : null;
        int x = a.Length, y = b.Length, index = length;
        int aStart = a.Length, aEnd = 0, bStart = 0, bEnd = 0; // aStart == a.Length: no range open
        while (x > 0 && y > 0)
        {
            bool emit = false;
            if (a[x - 1] == b[y - 1])
            {
                common[index - 1] = a[x - 1];
                if (aStart == a.Length)
                {
                    aStart = aEnd = x - 1;
                    bStart = bEnd = y - 1;
                }
                else if (aStart == x && bStart == y)
                {
                    aStart--;
                    bStart--;
                }
                else
                {
                    emit = true;
                }
                if (aStart == 0 || bStart == 0)
                    emit = true;
                index--;
                x--;
                y--;
            }
            else
            {
                if (table[(x - 1) * width + y] > table[x * width + y - 1])
                    x--;
                else
                    y--;
                if (aStart != a.Length)
                    emit = true;
            }
            if (emit)
            {
                if (ranges is not null && (minMatchLength == 0 || aEnd - aStart + 1 >= minMatchLength))
                    ranges.Add((aStart, aEnd, bStart, bEnd));
                aStart = a.Length;
            }
        }
        var reply = ctx.Reply;
        if (ranges is null)
        {
            reply.WriteBulk(common);
            return;
        }
        reply.WriteMapHeader(2);
        reply.WriteBulk("matches"u8);
        reply.WriteArrayHeader(ranges.Count);
        foreach (var (rangeAStart, rangeAEnd, rangeBStart, rangeBEnd) in ranges)
        {
            reply.WriteArrayHeader(withMatchLength ? 3 : 2);
            reply.WriteArrayHeader(2);
            reply.WriteInteger(rangeAStart);
            reply.WriteInteger(rangeAEnd);
            reply.WriteArrayHeader(2);
            reply.WriteInteger(rangeBStart);
            reply.WriteInteger(rangeBEnd);
            if (withMatchLength)
                reply.WriteInteger(rangeAEnd - rangeAStart + 1);
        }
        reply.WriteBulk("len"u8);
        reply.WriteInteger(length);
    }
}
