using Psyncd.Protocol;
using Psyncd.Storage;

namespace Psyncd.Commands;

/// <summary>String commands.</summary>
internal static class StringCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("get", 2, CommandFlags.ReadOnly | CommandFlags.Fast, Get, 1, 1, 1);
        table.Add("set", -3, CommandFlags.Write | CommandFlags.DenyOom, Set, 1, 1, 1);
    }

    private static void Get(CommandContext ctx, in CommandArgs args)
    {
        var entry = ctx.Db.LookupRead(args[1]);
        if (!entry.Exists)
            ctx.Reply.WriteNullBulk();
        else if (entry.Kind != ValueKind.String)
            ctx.WrongType();
        else
            ctx.Reply.WriteBulk(entry.String);
    }

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
        AnyExpire = Ex | Px | ExAt | PxAt,
    }

    /// <summary>SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] (Redis 7's options).</summary>
    private static void Set(CommandContext ctx, in CommandArgs args)
    {
        var flags = SetFlags.None;
        int expireArg = 0;
        for (int i = 3; i < args.Count; i++)
        {
            var a = args[i];
            bool hasNext = i + 1 < args.Count;
            if (Args.Is(a, "NX"u8) && (flags & SetFlags.Xx) == 0)
                flags |= SetFlags.Nx;
            else if (Args.Is(a, "XX"u8) && (flags & SetFlags.Nx) == 0)
                flags |= SetFlags.Xx;
            else if (Args.Is(a, "GET"u8))
                flags |= SetFlags.Get;
            else if (Args.Is(a, "KEEPTTL"u8) && (flags & SetFlags.AnyExpire) == 0)
                flags |= SetFlags.KeepTtl;
            else if (hasNext && (flags & (SetFlags.AnyExpire | SetFlags.KeepTtl)) == 0 && ExpireUnit(a) is var unit && unit != SetFlags.None)
            {
                flags |= unit;
                expireArg = ++i;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }

        long expireAt = -1;
        if (expireArg != 0)
        {
            if (!Args.TryParseInt64(args[expireArg], out long amount))
            {
                ctx.NotInteger();
                return;
            }
            bool seconds = (flags & (SetFlags.Ex | SetFlags.ExAt)) != 0;
            if (amount <= 0 || (seconds && amount > long.MaxValue / 1000))
            {
                ctx.Reply.WriteError(ErrorReplies.InvalidExpire);
                return;
            }
            long ms = seconds ? amount * 1000 : amount;
            if ((flags & (SetFlags.Ex | SetFlags.Px)) != 0)
            {
                if (ms > long.MaxValue - ctx.Keyspace.NowMs)
                {
                    ctx.Reply.WriteError(ErrorReplies.InvalidExpire);
                    return;
                }
                ms += ctx.Keyspace.NowMs;
            }
            expireAt = ms;
        }

        var db = ctx.Db;
        var key = args[1];
        var current = db.LookupWrite(key);
        if ((flags & SetFlags.Get) != 0)
        {
            if (current.IsNot(ValueKind.String))
            {
                ctx.WrongType();
                return;
            }
            // The old value is replied before the write can change the bytes it points to.
            if (current.Exists)
                ctx.Reply.WriteBulk(current.String);
            else
                ctx.Reply.WriteNullBulk();
        }
        if (((flags & SetFlags.Nx) != 0 && current.Exists) || ((flags & SetFlags.Xx) != 0 && !current.Exists))
        {
            if ((flags & SetFlags.Get) == 0)
                ctx.Reply.WriteNullBulk();
            return;
        }
        db.SetString(key, args[2], in current, expireAt, keepTtl: (flags & SetFlags.KeepTtl) != 0);
        if ((flags & SetFlags.Get) == 0)
            ctx.Reply.WriteOk();

        // Relative expiries travel as absolute ones (SET key value PXAT ms), so a replica expires the key
        // at the same instant; GET is not propagated.
        if ((flags & (SetFlags.Ex | SetFlags.Px | SetFlags.ExAt)) != 0)
        {
            var p = ctx.Propagate(5);
            p.WriteBulk(args[0]);
            p.WriteBulk(key);
            p.WriteBulk(args[2]);
            p.WriteBulk("PXAT"u8);
            p.WriteBulk(expireAt);
        }
        else if ((flags & SetFlags.Get) != 0)
        {
            int kept = 0;
            for (int i = 0; i < args.Count; i++)
            {
                if (i < 3 || !Args.Is(args[i], "GET"u8))
                    kept++;
            }
            var p = ctx.Propagate(kept);
            for (int i = 0; i < args.Count; i++)
            {
                if (i < 3 || !Args.Is(args[i], "GET"u8))
                    p.WriteBulk(args[i]);
            }
        }
    }

    private static SetFlags ExpireUnit(ReadOnlySpan<byte> arg)
    {
        if (Args.Is(arg, "EX"u8))
            return SetFlags.Ex;
        if (Args.Is(arg, "PX"u8))
            return SetFlags.Px;
        if (Args.Is(arg, "EXAT"u8))
            return SetFlags.ExAt;
        if (Args.Is(arg, "PXAT"u8))
            return SetFlags.PxAt;
        return SetFlags.None;
    }
}
