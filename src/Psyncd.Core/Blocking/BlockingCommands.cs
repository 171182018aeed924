using Psyncd.Commands;
using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;

namespace Psyncd.Blocking;

/// <summary>BLPOP, BRPOP, BRPOPLPUSH, BLMOVE: a list command now, or the client waits in the <see cref="BlockingRegistry"/>.</summary>
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
        if (!BlockingRegistry.CanBlock(ctx))
        {
            ctx.Reply.WriteNullArray();
            return;
        }
        var keys = new List<byte[]>(args.Count - 2);
        for (int i = 1; i < args.Count - 1; i++)
        {
            bool seen = false;
            foreach (var k in keys)
                seen |= k.AsSpan().SequenceEqual(args[i]);
            if (!seen)
                keys.Add(args[i].ToArray());
        }
        _blocking.Block(ctx.Client, new BlockedState(ctx.Client.Db, keys.ToArray(), left ? BlockKind.PopLeft : BlockKind.PopRight, timeoutMs));
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
}
