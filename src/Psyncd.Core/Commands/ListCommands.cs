using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>List commands, blocking ones included (Redis 7.0's replies and errors; LPOP/RPOP take a count).</summary>
internal static partial class ListCommands
{
    public static void Register(CommandTable table)
    {
        const CommandFlags push = CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast;
        const CommandFlags read = CommandFlags.ReadOnly;
        table.Add("lpush", -3, push, LPush, 1, 1, 1);
        table.Add("rpush", -3, push, RPush, 1, 1, 1);
        table.Add("lpushx", -3, push, LPushX, 1, 1, 1);
        table.Add("rpushx", -3, push, RPushX, 1, 1, 1);
        table.Add("lpop", -2, CommandFlags.Write | CommandFlags.Fast, LPop, 1, 1, 1);
        table.Add("rpop", -2, CommandFlags.Write | CommandFlags.Fast, RPop, 1, 1, 1);
        table.Add("llen", 2, read | CommandFlags.Fast, LLen, 1, 1, 1);
        table.Add("lrange", 4, read, LRange, 1, 1, 1);
        table.Add("lindex", 3, read, LIndex, 1, 1, 1);
        table.Add("lset", 4, CommandFlags.Write | CommandFlags.DenyOom, LSet, 1, 1, 1);
        table.Add("lrem", 4, CommandFlags.Write, LRem, 1, 1, 1);
        table.Add("ltrim", 4, CommandFlags.Write, LTrim, 1, 1, 1);
        table.Add("linsert", 5, CommandFlags.Write | CommandFlags.DenyOom, LInsert, 1, 1, 1);
        table.Add("rpoplpush", 3, CommandFlags.Write | CommandFlags.DenyOom, RPopLPush, 1, 2, 1);
        table.Add("lmove", 5, CommandFlags.Write | CommandFlags.DenyOom, LMove, 1, 2, 1);
        table.Add("lpos", -3, read, LPos, 1, 1, 1);
        table.Add("lmpop", -4, CommandFlags.Write, LMPop);
    }

    /// <summary>The list at the key for reading: null when missing or (with WRONGTYPE replied) of another type.</summary>
    private static ListObject? ForRead(CommandContext ctx, ReadOnlySpan<byte> key, out bool wrongType)
    {
        var entry = ctx.Db.LookupRead(key);
        wrongType = entry.IsNot(ValueKind.List);
        if (wrongType)
        {
            ctx.WrongType();
            return null;
        }
        return entry.Exists ? entry.As<ListObject>() : null;
    }

    /// <summary>The list at the key before writing it: null when missing or (with WRONGTYPE replied) of another type.</summary>
    internal static ListObject? ForWrite(CommandContext ctx, ReadOnlySpan<byte> key, out bool wrongType)
    {
        var entry = ctx.Db.LookupWrite(key);
        wrongType = entry.IsNot(ValueKind.List);
        if (wrongType)
        {
            ctx.WrongType();
            return null;
        }
        return entry.Exists ? entry.As<ListObject>() : null;
    }

    /// <summary>"lpop" or "rpop": the event of a pop from that end.</summary>
    internal static ReadOnlySpan<byte> PopEvent(bool left) => left ? "lpop"u8 : "rpop"u8;

    /// <summary>"lpush" or "rpush": the event of a push to that end.</summary>
    internal static ReadOnlySpan<byte> PushEvent(bool left) => left ? "lpush"u8 : "rpush"u8;

    // ------------------------------------------------------------------
    // Push
    // ------------------------------------------------------------------

    private static void LPush(CommandContext ctx, in CommandArgs args) => Push(ctx, args, left: true, onlyIfExists: false);

    private static void RPush(CommandContext ctx, in CommandArgs args) => Push(ctx, args, left: false, onlyIfExists: false);

    private static void LPushX(CommandContext ctx, in CommandArgs args) => Push(ctx, args, left: true, onlyIfExists: true);

    private static void RPushX(CommandContext ctx, in CommandArgs args) => Push(ctx, args, left: false, onlyIfExists: true);

    private static void Push(CommandContext ctx, in CommandArgs args, bool left, bool onlyIfExists)
    {
        var key = args[1];
        var list = ForWrite(ctx, key, out bool wrongType);
        if (wrongType)
            return;
        bool created = list is null;
        if (created)
        {
            if (onlyIfExists)
            {
                ctx.Reply.WriteInteger(0);
                return;
            }
            list = new ListObject();
        }
        for (int i = 2; i < args.Count; i++)
        {
            if (left)
                list!.PushLeft(args[i]);
            else
                list!.PushRight(args[i]);
        }
        if (created)
            ctx.Db.SetObject(key, list!);
        else
            ctx.Db.Modified(key, args.Count - 2);
        ctx.Reply.WriteInteger(list!.Count);
        ctx.Notify(KeyspaceEventClass.List, PushEvent(left), key);
    }

    // ------------------------------------------------------------------
    // Pop
    // ------------------------------------------------------------------

    private static void LPop(CommandContext ctx, in CommandArgs args) => Pop(ctx, args, left: true);

    private static void RPop(CommandContext ctx, in CommandArgs args) => Pop(ctx, args, left: false);

    private static void Pop(CommandContext ctx, in CommandArgs args, bool left)
    {
        if (args.Count > 3)
        {
            ctx.WrongArgCount();
            return;
        }
        bool hasCount = args.Count == 3;
        long count = 1;
        if (hasCount && !SetCommands.TryParsePositive(ctx, args[2], out count))
            return;
        var key = args[1];
        var list = ForWrite(ctx, key, out bool wrongType);
        if (wrongType)
            return;
        var reply = ctx.Reply;
        if (list is null)
        {
            if (hasCount)
                reply.WriteNullArray();
            else
                reply.WriteNullBulk();
            return;
        }
        if (!hasCount)
        {
            reply.WriteBulk(left ? list.PopLeftSpan() : list.PopRightSpan());
            CollectionHelpers.AfterRemoval(ctx.Notifier, ctx.Db, key, list, 1, KeyspaceEventClass.List, PopEvent(left));
            return;
        }
        if (count == 0)
        {
            reply.WriteArrayHeader(0);
            return;
        }
        long n = Math.Min(count, list.Count);
        reply.WriteArrayHeader(n);
        for (long i = 0; i < n; i++)
            reply.WriteBulk(left ? list.PopLeftSpan() : list.PopRightSpan());
        CollectionHelpers.AfterRemoval(ctx.Notifier, ctx.Db, key, list, n, KeyspaceEventClass.List, PopEvent(left));
    }

    // ------------------------------------------------------------------
    // Reads
    // ------------------------------------------------------------------

    private static void LLen(CommandContext ctx, in CommandArgs args)
    {
        var list = ForRead(ctx, args[1], out bool wrongType);
        if (!wrongType)
            ctx.Reply.WriteInteger(list?.Count ?? 0);
    }

    private static void LRange(CommandContext ctx, in CommandArgs args)
    {
        if (!Numbers.TryParseInt64(args[2], out long start) || !Numbers.TryParseInt64(args[3], out long end))
        {
            ctx.NotInteger();
            return;
        }
        var list = ForRead(ctx, args[1], out bool wrongType);
        if (wrongType)
            return;
        var reply = ctx.Reply;
        if (list is null)
        {
            reply.WriteArrayHeader(0);
            return;
        }
        long length = list.Count;
        if (start < 0)
            start += length;
        if (end < 0)
            end += length;
        if (start < 0)
            start = 0;
        if (start > end || start >= length)
        {
            reply.WriteArrayHeader(0);
            return;
        }
        if (end >= length)
            end = length - 1;
        long n = end - start + 1;
        reply.WriteArrayHeader(n);
        var cursor = list.At(start);
        for (long i = 0; i < n && cursor.Next(out var value); i++)
            reply.WriteBulk(value);
    }

    private static void LIndex(CommandContext ctx, in CommandArgs args)
    {
        var list = ForRead(ctx, args[1], out bool wrongType);
        if (wrongType)
            return;
        if (list is null)
        {
            ctx.Reply.WriteNullBulk();
            return;
        }
        if (!Numbers.TryParseInt64(args[2], out long index))
        {
            ctx.NotInteger();
            return;
        }
        if (index < 0)
            index += list.Count;
        if (index < 0 || index >= list.Count)
            ctx.Reply.WriteNullBulk();
        else
            ctx.Reply.WriteBulk(list.Get(index));
    }

    // ------------------------------------------------------------------
    // Changes in the middle
    // ------------------------------------------------------------------

    private static void LSet(CommandContext ctx, in CommandArgs args)
    {
        var key = args[1];
        var entry = ctx.Db.LookupWrite(key);
        if (!entry.Exists)
        {
            ctx.Reply.WriteError(ErrorReplies.NoSuchKey);
            return;
        }
        if (entry.Kind != ValueKind.List)
        {
            ctx.WrongType();
            return;
        }
        var list = entry.As<ListObject>();
        if (!Numbers.TryParseInt64(args[2], out long index))
        {
            ctx.NotInteger();
            return;
        }
        if (index < 0)
            index += list.Count;
        if (index < 0 || index >= list.Count)
        {
            ctx.Reply.WriteError(ErrorReplies.OutOfRange);
            return;
        }
        list.Set(index, args[3]);
        ctx.Db.Modified(key);
        ctx.Reply.WriteOk();
        ctx.Notify(KeyspaceEventClass.List, "lset"u8, key);
    }

    private static void LRem(CommandContext ctx, in CommandArgs args)
    {
        if (!Numbers.TryParseInt64(args[2], out long count))
        {
            ctx.NotInteger();
            return;
        }
        var key = args[1];
        var list = ForWrite(ctx, key, out bool wrongType);
        if (wrongType)
            return;
        long removed = list is null ? 0 : list.Remove(args[3], count);
        ctx.Reply.WriteInteger(removed);
        if (removed > 0)
            CollectionHelpers.AfterRemoval(ctx.Notifier, ctx.Db, key, list!, removed, KeyspaceEventClass.List, "lrem"u8);
    }

    private static void LTrim(CommandContext ctx, in CommandArgs args)
    {
        if (!Numbers.TryParseInt64(args[2], out long start) || !Numbers.TryParseInt64(args[3], out long end))
        {
            ctx.NotInteger();
            return;
        }
        var key = args[1];
        var list = ForWrite(ctx, key, out bool wrongType);
        if (wrongType)
            return;
        if (list is null)
        {
            ctx.Reply.WriteOk();
            return;
        }
        long length = list.Count;
        if (start < 0)
            start += length;
        if (end < 0)
            end += length;
        if (start < 0)
            start = 0;
        long left, right;
        if (start > end || start >= length)
        {
            left = length;
            right = 0;
        }
        else
        {
            if (end >= length)
                end = length - 1;
            left = start;
            right = length - end - 1;
        }
        list.RemoveLeft(left);
        list.RemoveRight(right);
        ctx.Reply.WriteOk();
        // Redis reports "ltrim" even when nothing was trimmed.
        CollectionHelpers.AfterRemoval(ctx.Notifier, ctx.Db, key, list, left + right, KeyspaceEventClass.List, "ltrim"u8);
    }

    private static void LInsert(CommandContext ctx, in CommandArgs args)
    {
        bool after;
        if (Keyword.Is(args[2], "AFTER"u8))
            after = true;
        else if (Keyword.Is(args[2], "BEFORE"u8))
            after = false;
        else
        {
            ctx.SyntaxError();
            return;
        }
        var key = args[1];
        var list = ForWrite(ctx, key, out bool wrongType);
        if (wrongType)
            return;
        if (list is null)
        {
            ctx.Reply.WriteInteger(0);
            return;
        }
        if (!list.Insert(args[3], args[4], after))
        {
            ctx.Reply.WriteInteger(-1);
            return;
        }
        ctx.Db.Modified(key);
        ctx.Reply.WriteInteger(list.Count);
        ctx.Notify(KeyspaceEventClass.List, "linsert"u8, key);
    }

    // ------------------------------------------------------------------
    // Moves
    // ------------------------------------------------------------------

    private static void RPopLPush(CommandContext ctx, in CommandArgs args) => Move(ctx, args[1], args[2], fromLeft: false, toLeft: true);

    private static void LMove(CommandContext ctx, in CommandArgs args)
    {
        if (!TryParseEnd(args[3], out bool fromLeft) || !TryParseEnd(args[4], out bool toLeft))
        {
            ctx.SyntaxError();
            return;
        }
        Move(ctx, args[1], args[2], fromLeft, toLeft);
    }

    internal static bool TryParseEnd(ReadOnlySpan<byte> arg, out bool left)
    {
        left = Keyword.Is(arg, "LEFT"u8);
        return left || Keyword.Is(arg, "RIGHT"u8);
    }

    /// <summary>RPOPLPUSH and LMOVE: false (nil replied) when the source is missing.</summary>
    private static bool Move(CommandContext ctx, ReadOnlySpan<byte> source, ReadOnlySpan<byte> destination, bool fromLeft, bool toLeft)
    {
        var list = ForWrite(ctx, source, out bool wrongType);
        if (wrongType)
            return true;
        if (list is null)
        {
            ctx.Reply.WriteNullBulk();
            return false;
        }
        var target = ForWrite(ctx, destination, out wrongType);
        if (wrongType)
            return true;
        MoveElement(ctx.Notifier, ctx.Db, list, source, target, destination, fromLeft, toLeft, ctx.Reply);
        return true;
    }

    /// <summary>
    /// Pops from <paramref name="list"/> and pushes to <paramref name="target"/> (created when null), replying
    /// the element as a bulk string; shared with the serving of blocked BRPOPLPUSH/BLMOVE clients. Events in
    /// Redis's order: the push to the destination, the pop from the source, its "del" when emptied.
    /// </summary>
    internal static void MoveElement(IKeyspaceNotifier notifier, Database db, ListObject list, ReadOnlySpan<byte> source, ListObject? target, ReadOnlySpan<byte> destination,
        bool fromLeft, bool toLeft, ReplyWriter reply)
    {
        // A new destination is a new record: refused for a full store before the element leaves the source.
        if (target is null)
            db.Keyspace.EnsureRoomForRecords(db.Keyspace.ObjectRecordBytes(destination.Length));
        var popped = fromLeft ? list.PopLeftSpan() : list.PopRightSpan();
        // The bytes live in the source's node, which the push may reuse when both keys are one list: copy.
        Span<byte> value = popped.Length <= 512 ? stackalloc byte[popped.Length] : new byte[popped.Length];
        popped.CopyTo(value);
        bool created = target is null;
        target ??= new ListObject();
        if (toLeft)
            target.PushLeft(value);
        else
            target.PushRight(value);
        reply.WriteBulk(value);
        if (created)
            db.SetObject(destination, target);
        else
            db.Modified(destination);
        notifier.Notify(KeyspaceEventClass.List, PushEvent(toLeft), db.Index, destination);
        if (!ReferenceEquals(list, target))
            CollectionHelpers.AfterRemoval(notifier, db, source, list, 1, KeyspaceEventClass.List, PopEvent(fromLeft));
        else
            notifier.Notify(KeyspaceEventClass.List, PopEvent(fromLeft), db.Index, source);
    }

}
