using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>The list commands of Redis 6.0.6 and 7.0: LPOS and LMPOP.</summary>
internal static partial class ListCommands
{
    /// <summary>LPOS key element [RANK r] [COUNT n] [MAXLEN m]: positions of matches, from the tail for a negative rank.</summary>
    private static void LPos(CommandContext ctx, in CommandArgs args)
    {
        long rank = 1, count = -1, maxLength = 0;
        for (int i = 3; i < args.Count; i++)
        {
            var option = args[i];
            bool more = i + 1 < args.Count;
            if (Keyword.Is(option, "RANK"u8) && more)
            {
                if (!Numbers.TryParseInt64(args[++i], out rank))
                {
                    ctx.NotInteger();
                    return;
                }
                if (rank == 0)
                {
                    ctx.Reply.WriteError("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"u8);
                    return;
                }
            }
            else if (Keyword.Is(option, "COUNT"u8) && more)
            {
                if (!CollectionHelpers.TryParseNonNegative(ctx, args[++i], "ERR COUNT can't be negative"u8, out count))
                    return;
            }
            else if (Keyword.Is(option, "MAXLEN"u8) && more)
            {
                if (!CollectionHelpers.TryParseNonNegative(ctx, args[++i], "ERR MAXLEN can't be negative"u8, out maxLength))
                    return;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        bool fromTail = rank < 0;
        // As in C, negating LONG_MIN leaves it negative: every match then reaches the rank.
        if (fromTail)
            rank = unchecked(-rank);
        var list = ForRead(ctx, args[1], out bool wrongType);
        if (wrongType)
            return;
        var reply = ctx.Reply;
        if (list is null)
        {
            if (count != -1)
                reply.WriteArrayHeader(0);
            else
                reply.WriteNullBulk();
            return;
        }
        var element = args[2];
        long length = list.Count, index = 0, matches = 0;
        List<long>? found = count != -1 ? new() : null;
        long single = -1;
        var cursor = fromTail ? list.FromTail() : list.At(0);
        while ((maxLength == 0 || index < maxLength) && (fromTail ? cursor.Previous(out var value) : cursor.Next(out value)))
        {
            if (value.SequenceEqual(element))
            {
                matches++;
                if (matches >= rank)
                {
                    long position = fromTail ? length - index - 1 : index;
                    if (found is null)
                    {
                        single = position;
                        break;
                    }
                    found.Add(position);
                    if (count != 0 && matches - rank + 1 >= count)
                        break;
                }
            }
            index++;
        }
        if (found is null)
        {
            if (single >= 0)
                reply.WriteInteger(single);
            else
                reply.WriteNullBulk();
            return;
        }
        reply.WriteArrayHeader(found.Count);
        foreach (long position in found)
            reply.WriteInteger(position);
    }

    /// <summary>LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT n]: pops from the first non-empty list.</summary>
    private static void LMPop(CommandContext ctx, in CommandArgs args) =>
        MultiPop.Execute(ctx, args, "LEFT"u8, "RIGHT"u8, TryPopFromFirst);

    /// <summary>
    /// Pops from the first of the keys holding a list (LMPOP, and BLMPOP before it blocks): replied as
    /// [key, [elements]] and propagated as LPOP/RPOP key n. False (nothing replied) when every list is empty;
    /// true after a WRONGTYPE error too.
    /// </summary>
    internal static bool TryPopFromFirst(CommandContext ctx, in CommandArgs args, in MultiPop pop)
    {
        for (int i = pop.FirstKey; i < pop.FirstKey + pop.KeyCount; i++)
        {
            var key = args[i];
            var list = ForWrite(ctx, key, out bool wrongType);
            if (wrongType)
                return true;
            if (list is null)
                continue;
            long popped = PopRange(ctx.Notifier, ctx.Db, key, list, pop.First, pop.Count, ctx.Reply);
            MultiPop.Propagate(ctx, pop.First ? "LPOP"u8 : "RPOP"u8, key, popped);
            return true;
        }
        return false;
    }

    /// <summary>Pops up to <paramref name="count"/> elements replying [key, [elements]]; returns how many.</summary>
    internal static long PopRange(IKeyspaceNotifier notifier, Database db, ReadOnlySpan<byte> key, ListObject list, bool left, long count, ReplyWriter reply)
    {
        long n = Math.Min(count, list.Count);
        reply.WriteArrayHeader(2);
        reply.WriteBulk(key);
        reply.WriteArrayHeader(n);
        for (long i = 0; i < n; i++)
            reply.WriteBulk(left ? list.PopLeftSpan() : list.PopRightSpan());
        CollectionHelpers.AfterRemoval(notifier, db, key, list, n, KeyspaceEventClass.List, PopEvent(left));
        return n;
    }
}
