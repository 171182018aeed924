using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Storage.Types;

namespace Psyncd.Commands;

/// <summary>ZMPOP, and the pops the blocking sorted set commands make (BZPOPMIN, BZPOPMAX, BZMPOP).</summary>
internal static partial class SortedSetCommands
{
    /// <summary>ZMPOP numkeys key [key ...] MIN|MAX [COUNT n]: pops from the first non-empty sorted set.</summary>
    private static void ZMPop(CommandContext ctx, in CommandArgs args) =>
        MultiPop.Execute(ctx, args, "MIN"u8, "MAX"u8, TryPopFromFirst);

    /// <summary>
    /// Pops from the first of the keys holding a sorted set (ZMPOP, and BZMPOP before it blocks), propagated
    /// as ZPOPMIN/ZPOPMAX key n. False (nothing replied) when none holds one; true after a WRONGTYPE error too.
    /// </summary>
    internal static bool TryPopFromFirst(CommandContext ctx, in CommandArgs args, in MultiPop pop)
    {
        var db = ctx.Db;
        for (int i = pop.FirstKey; i < pop.FirstKey + pop.KeyCount; i++)
        {
            var key = args[i];
            var entry = db.LookupWrite(key);
            if (entry.IsNot(ValueKind.SortedSet))
            {
                ctx.WrongType();
                return true;
            }
            if (!entry.Exists)
                continue;
            long popped = PopForBlocked(ctx.Notifier, db, key, entry.As<SortedSetObject>(), !pop.First, pop.Count, multi: true, ctx.Reply);
            MultiPop.Propagate(ctx, pop.First ? "ZPOPMIN"u8 : "ZPOPMAX"u8, key, popped);
            return true;
        }
        return false;
    }

    /// <summary>
    /// Pops up to <paramref name="count"/> members, replying [key, member, score] (BZPOPMIN/BZPOPMAX) or with
    /// <paramref name="multi"/> [key, [[member, score] ...]] (ZMPOP, BZMPOP); returns how many.
    /// </summary>
    internal static long PopForBlocked(IKeyspaceNotifier notifier, Database db, ReadOnlySpan<byte> key, SortedSetObject zset, bool max, long count, bool multi, ReplyWriter reply)
    {
        long n = Math.Min(count, zset.Count);
        if (multi)
        {
            reply.WriteArrayHeader(2);
            reply.WriteBulk(key);
            reply.WriteArrayHeader(n);
        }
        else
        {
            reply.WriteArrayHeader(3);
            reply.WriteBulk(key);
        }
        for (long i = 0; i < n; i++)
        {
            var node = max ? zset.Last! : zset.First!;
            // Each member is a [member, score] pair in the multi form, flat after the key otherwise (both protocols).
            if (multi)
                reply.WriteArrayHeader(2);
            reply.WriteBulk(zset.MemberOf(node));
            CollectionHelpers.WriteScore(reply, node.Score);
            zset.Delete(node);
        }
        if (n > 0)
            CollectionHelpers.AfterRemoval(notifier, db, key, zset, n, KeyspaceEventClass.ZSet, max ? "zpopmax"u8 : "zpopmin"u8);
        return n;
    }
}
