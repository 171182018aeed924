using Node = Psyncd.Storage.Types.SortedSetObject.Node;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>
/// The sorted set commands of Redis 6.2 and 7.0: ZUNION, ZINTER, ZDIFF, ZDIFFSTORE, ZINTERCARD, ZRANGESTORE,
/// ZMSCORE, ZRANDMEMBER and ZMPOP (the last in SortedSetCommands.Pops).
/// </summary>
internal static partial class SortedSetCommands
{
    private static void RegisterRedis7(CommandTable table)
    {
        table.Add("zmpop", -4, CommandFlags.Write, ZMPop);
        table.Add("zrangestore", -5, CommandFlags.Write | CommandFlags.DenyOom, ZRangeStore, 1, 2, 1);
        table.Add("zunion", -3, CommandFlags.ReadOnly, ZUnion);
        table.Add("zinter", -3, CommandFlags.ReadOnly, ZInter);
        table.Add("zdiff", -3, CommandFlags.ReadOnly, ZDiff);
        table.Add("zdiffstore", -4, CommandFlags.Write | CommandFlags.DenyOom, ZDiffStore, 1, 1, 1);
        table.Add("zintercard", -3, CommandFlags.ReadOnly, ZInterCard);
        table.Add("zmscore", -3, CommandFlags.ReadOnly | CommandFlags.Fast, ZMScore, 1, 1, 1);
        table.Add("zrandmember", -2, CommandFlags.ReadOnly | CommandFlags.Random, ZRandMember, 1, 1, 1);
    }

    private static void ZUnion(CommandContext ctx, in CommandArgs args) => UnionInterGeneric(ctx, args, ZOperation.Union, 1, store: false);

    private static void ZInter(CommandContext ctx, in CommandArgs args) => UnionInterGeneric(ctx, args, ZOperation.Inter, 1, store: false);

    private static void ZDiff(CommandContext ctx, in CommandArgs args) => UnionInterGeneric(ctx, args, ZOperation.Diff, 1, store: false);

    private static void ZDiffStore(CommandContext ctx, in CommandArgs args) => UnionInterGeneric(ctx, args, ZOperation.Diff, 2, store: true);

    private static void ZInterCard(CommandContext ctx, in CommandArgs args) => UnionInterGeneric(ctx, args, ZOperation.Inter, 1, store: false, cardinality: true);

    /// <summary>ZRANGESTORE dst src min max [BYSCORE|BYLEX] [REV] [LIMIT offset count]: ZRANGE's members, stored.</summary>
    private static void ZRangeStore(CommandContext ctx, in CommandArgs args) => RangeGeneric(ctx, args, RangeType.Auto, Direction.Auto, store: true);

    /// <summary>Stores the members a range collected (ZRANGESTORE), emptying the list.</summary>
    private static void StoreNodes(CommandContext ctx, ReadOnlySpan<byte> dstKey, SortedSetObject source, List<Node> nodes)
    {
        var result = new SortedSetObject { Compact = false };
        foreach (var node in nodes)
            result.Add(source.MemberOf(node), node.Score);
        nodes.Clear();
        StoreResult(ctx, dstKey, result, "zrangestore"u8);
    }

    /// <summary>ZMSCORE key member [member ...]: each member's score, or nil.</summary>
    private static void ZMScore(CommandContext ctx, in CommandArgs args)
    {
        var entry = ctx.Db.LookupRead(args[1]);
        if (entry.IsNot(ValueKind.SortedSet))
        {
            ctx.WrongType();
            return;
        }
        var zset = entry.Exists ? entry.As<SortedSetObject>() : null;
        var reply = ctx.Reply;
        reply.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
        {
            if (zset is not null && zset.TryGetScore(args[i], out double score))
                CollectionHelpers.WriteScore(reply, score);
            else
                reply.WriteNullBulk();
        }
    }

    /// <summary>
    /// ZRANDMEMBER key [count [WITHSCORES]]: random members (see <see cref="CollectionHelpers.RandomPositions"/>);
    /// a count covering the whole set answers every member from the highest score down, as redis-server 7.0
    /// does for a compact sorted set.
    /// </summary>
    private static void ZRandMember(CommandContext ctx, in CommandArgs args)
    {
        if (!CollectionHelpers.TryParseRandomArgs(ctx, args, "WITHSCORES"u8, out bool hasCount, out long count, out bool withScores))
            return;
        var entry = ctx.Db.LookupRead(args[1]);
        if (entry.IsNot(ValueKind.SortedSet))
        {
            ctx.WrongType();
            return;
        }
        var reply = ctx.Reply;
        if (!entry.Exists)
        {
            if (hasCount)
                reply.WriteArrayHeader(0);
            else
                reply.WriteNullBulk();
            return;
        }
        var zset = entry.As<SortedSetObject>();
        int size = (int)zset.Count;
        if (!hasCount)
        {
            reply.WriteBulk(zset.MemberOf(zset.ByRank(Random.Shared.Next(size))!));
            return;
        }
        long items = count < 0 ? -count : Math.Min(count, size);
        WriteRangeHeader(reply, items, withScores);
        if (count >= size)
        {
            for (var node = zset.Last; node is not null; node = node.Backward)
                WriteNode(reply, zset, node, withScores);
            return;
        }
        foreach (int position in CollectionHelpers.RandomPositions(size, count))
            WriteNode(reply, zset, zset.ByRank(position)!, withScores);
    }
}
