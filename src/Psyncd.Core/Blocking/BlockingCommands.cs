using Psyncd.Commands;
using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;

namespace Psyncd.Blocking;

/// <summary>
/// BLPOP, BRPOP, BRPOPLPUSH, BLMOVE, BLMPOP, BZPOPMIN, BZPOPMAX, BZMPOP: a list or sorted set command now, or
/// the client waits in the <see cref="BlockingRegistry"/>. Served at once, each is propagated as its
/// non-blocking form (LPOP/RPOP key n, ZPOPMIN/ZPOPMAX key [n]), as Redis 7.0 does.
/// </summary>
internal sealed class BlockingCommands
{
    private readonly BlockingRegistry _blocking;

    public BlockingCommands(BlockingRegistry blocking)
    {
        _blocking = blocking;
    }

    public void Register(CommandTable table)
    {
        table.Add("blpop", -3, CommandFlags.Write | CommandFlags.NoScript, BLPop, 1, -2, 1);
        table.Add("brpop", -3, CommandFlags.Write | CommandFlags.NoScript, BRPop, 1, -2, 1);
        table.Add("brpoplpush", 4, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.NoScript, BRPopLPush, 1, 2, 1);
        table.Add("blmove", 6, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.NoScript, BLMove, 1, 2, 1);
        table.Add("blmpop", -5, CommandFlags.Write, BLMPop);
        table.Add("bzpopmin", -3, CommandFlags.Write | CommandFlags.NoScript | CommandFlags.Fast, BZPopMin, 1, -2, 1);
        table.Add("bzpopmax", -3, CommandFlags.Write | CommandFlags.NoScript | CommandFlags.Fast, BZPopMax, 1, -2, 1);
        table.Add("bzmpop", -5, CommandFlags.Write, BZMPop);
    }

    private void BLPop(CommandContext ctx, in CommandArgs args) => BlockingPop(ctx, args, left: true);

    private void BRPop(CommandContext ctx, in CommandArgs args) => BlockingPop(ctx, args, left: false);

    private void BlockingPop(CommandContext ctx, in CommandArgs args, bool left)
    {
        if (!BlockingRegistry.TryParseTimeout(ctx, args[^1], out long timeoutMs))
            return;
        var db = ctx.Db;
        for (int i = 1; i < args.Count - 1; i++)
        {
            var key = args[i];
            var list = ListCommands.ForWrite(ctx, key, out bool wrongType);
            if (wrongType)
                return;
            if (list is null)
                continue;
            var reply = ctx.Reply;
            reply.WriteArrayHeader(2);
            reply.WriteBulk(key);
            reply.WriteBulk(left ? list.PopLeftSpan() : list.PopRightSpan());
            CollectionHelpers.AfterRemoval(ctx.Notifier, db, key, list, 1, KeyspaceEventClass.List, ListCommands.PopEvent(left));
            var p = ctx.Propagate(2);
            p.WriteBulk(left ? "LPOP"u8 : "RPOP"u8);
            p.WriteBulk(key);
            return;
        }
        BlockOrNil(ctx, args, 1, args.Count - 1, left ? BlockKind.PopLeft : BlockKind.PopRight, timeoutMs, multi: false, 1);
    }

    private void BRPopLPush(CommandContext ctx, in CommandArgs args) => BlockingMove(ctx, args, args[3], fromLeft: false, toLeft: true, lmove: false);

    private void BLMove(CommandContext ctx, in CommandArgs args)
    {
        if (!ListCommands.TryParseEnd(args[3], out bool fromLeft) || !ListCommands.TryParseEnd(args[4], out bool toLeft))
        {
            ctx.SyntaxError();
            return;
        }
        BlockingMove(ctx, args, args[5], fromLeft, toLeft, lmove: true);
    }

    private void BlockingMove(CommandContext ctx, in CommandArgs args, ReadOnlySpan<byte> timeout, bool fromLeft, bool toLeft, bool lmove)
    {
        if (!BlockingRegistry.TryParseTimeout(ctx, timeout, out long timeoutMs))
            return;
        var source = args[1];
        var destination = args[2];
        var list = ListCommands.ForWrite(ctx, source, out bool wrongType);
        if (wrongType)
            return;
        if (list is not null)
        {
            var target = ListCommands.ForWrite(ctx, destination, out wrongType);
            if (wrongType)
                return;
            ListCommands.MoveElement(ctx.Notifier, ctx.Db, list, source, target, destination, fromLeft, toLeft, ctx.Reply);
            // Propagated as received, as Redis 7.0 does: with a non-empty source it never blocks.
            return;
        }
        if (!BlockingRegistry.CanBlock(ctx))
        {
            // Redis answers a nil bulk here (but a nil multi-bulk on timeout).
            ctx.Reply.WriteNullBulk();
            return;
        }
        var state = new BlockedState(ctx.Client.Db, new[] { source.ToArray() }, BlockKind.Move, timeoutMs)
        {
            Destination = destination.ToArray(),
            FromLeft = fromLeft,
            ToLeft = toLeft,
            IsLMove = lmove,
        };
        _blocking.Block(ctx.Client, state);
    }

    private void BLMPop(CommandContext ctx, in CommandArgs args) =>
        BlockingMultiPop(ctx, args, "LEFT"u8, "RIGHT"u8, ListCommands.TryPopFromFirst, BlockKind.PopLeft, BlockKind.PopRight);

    private void BZPopMin(CommandContext ctx, in CommandArgs args) => BlockingZPop(ctx, args, max: false);

    private void BZPopMax(CommandContext ctx, in CommandArgs args) => BlockingZPop(ctx, args, max: true);

    private void BlockingZPop(CommandContext ctx, in CommandArgs args, bool max)
    {
        if (!BlockingRegistry.TryParseTimeout(ctx, args[^1], out long timeoutMs))
            return;
        for (int i = 1; i < args.Count - 1; i++)
        {
            var key = args[i];
            var entry = ctx.Db.LookupWrite(key);
            if (entry.IsNot(Storage.ValueKind.SortedSet))
            {
                ctx.WrongType();
                return;
            }
            if (!entry.Exists)
                continue;
            SortedSetCommands.PopForBlocked(ctx.Notifier, ctx.Db, key, entry.As<Storage.Types.SortedSetObject>(), max, 1, multi: false, ctx.Reply);
            var p = ctx.Propagate(2);
            p.WriteBulk(max ? "ZPOPMAX"u8 : "ZPOPMIN"u8);
            p.WriteBulk(key);
            return;
        }
        BlockOrNil(ctx, args, 1, args.Count - 1, max ? BlockKind.ZPopMax : BlockKind.ZPopMin, timeoutMs, multi: false, 1);
    }

    private void BZMPop(CommandContext ctx, in CommandArgs args) =>
        BlockingMultiPop(ctx, args, "MIN"u8, "MAX"u8, SortedSetCommands.TryPopFromFirst, BlockKind.ZPopMin, BlockKind.ZPopMax);

    /// <summary>
    /// BLMPOP and BZMPOP: <c>timeout numkeys key [key ...] side [COUNT n]</c>, the request read in Redis 7.0's
    /// order (the multi-pop's arguments before the timeout); pops at once when a key holds a value, else blocks.
    /// </summary>
    private void BlockingMultiPop(CommandContext ctx, in CommandArgs args, ReadOnlySpan<byte> firstWord, ReadOnlySpan<byte> lastWord,
        PopFromFirst popFromFirst, BlockKind firstKind, BlockKind lastKind)
    {
        if (!MultiPop.TryParse(ctx, args, 2, firstWord, lastWord, out var pop)
            || !BlockingRegistry.TryParseTimeout(ctx, args[1], out long timeoutMs))
            return;
        if (popFromFirst(ctx, args, pop))
            return;
        BlockOrNil(ctx, args, pop.FirstKey, pop.FirstKey + pop.KeyCount, pop.First ? firstKind : lastKind, timeoutMs, multi: true, pop.Count);
    }

    /// <summary>Blocks on the keys args[first..end) (without duplicates), or answers nil where blocking is not allowed.</summary>
    private void BlockOrNil(CommandContext ctx, in CommandArgs args, int first, int end, BlockKind kind, long timeoutMs, bool multi, long count)
    {
        if (!BlockingRegistry.CanBlock(ctx))
        {
            ctx.Reply.WriteNullArray();
            return;
        }
        _blocking.Block(ctx.Client, new BlockedState(ctx.Client.Db, DistinctKeys(args, first, end), kind, timeoutMs) { Multi = multi, Count = count });
    }

    private static byte[][] DistinctKeys(in CommandArgs args, int first, int end)
    {
        var keys = new List<byte[]>(end - first);
        for (int i = first; i < end; i++)
        {
            bool seen = false;
            foreach (var k in keys)
                seen |= k.AsSpan().SequenceEqual(args[i]);
            if (!seen)
                keys.Add(args[i].ToArray());
        }
        return keys.ToArray();
    }
}
