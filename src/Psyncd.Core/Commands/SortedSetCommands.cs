using Node = Psyncd.Storage.Types.SortedSetObject.Node;
using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>Sorted set commands.</summary>
/// <remarks>
/// Why this file is long: one command family (Redis's t_zset.c) whose range section (by rank, score and
/// lex, forward and reverse, with LIMIT and WITHSCORES, for ZRANGE*, ZREVRANGE*, ZCOUNT, ZLEXCOUNT and
/// ZREMRANGEBY*) parses the same bounds and writes the same replies; it stays beside the commands that use it.
/// </remarks>
internal static partial class SortedSetCommands
{
    private const string NotFloatRange = "ERR min or max is not a float";
    private const string NotLexRange = "ERR min or max not valid string range item";
    private const string NanScore = "ERR resulting score is not a number (NaN)";

    public static void Register(CommandTable table)
    {
        table.Add("zadd", -4, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, ZAdd, 1, 1, 1);
        table.Add("zincrby", 4, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, ZIncrBy, 1, 1, 1);
        table.Add("zrem", -3, CommandFlags.Write | CommandFlags.Fast, ZRem, 1, 1, 1);
        table.Add("zremrangebyscore", 4, CommandFlags.Write, ZRemRangeByScore, 1, 1, 1);
        table.Add("zremrangebyrank", 4, CommandFlags.Write, ZRemRangeByRank, 1, 1, 1);
        table.Add("zremrangebylex", 4, CommandFlags.Write, ZRemRangeByLex, 1, 1, 1);
        table.Add("zunionstore", -4, CommandFlags.Write | CommandFlags.DenyOom, ZUnionStore, 1, 1, 1);
        table.Add("zinterstore", -4, CommandFlags.Write | CommandFlags.DenyOom, ZInterStore, 1, 1, 1);
        table.Add("zrange", -4, CommandFlags.ReadOnly, ZRange, 1, 1, 1);
        table.Add("zrangebyscore", -4, CommandFlags.ReadOnly, ZRangeByScore, 1, 1, 1);
        table.Add("zrevrangebyscore", -4, CommandFlags.ReadOnly, ZRevRangeByScore, 1, 1, 1);
        table.Add("zrangebylex", -4, CommandFlags.ReadOnly, ZRangeByLex, 1, 1, 1);
        table.Add("zrevrangebylex", -4, CommandFlags.ReadOnly, ZRevRangeByLex, 1, 1, 1);
        table.Add("zcount", 4, CommandFlags.ReadOnly | CommandFlags.Fast, ZCount, 1, 1, 1);
        table.Add("zlexcount", 4, CommandFlags.ReadOnly | CommandFlags.Fast, ZLexCount, 1, 1, 1);
        table.Add("zrevrange", -4, CommandFlags.ReadOnly, ZRevRange, 1, 1, 1);
        table.Add("zcard", 2, CommandFlags.ReadOnly | CommandFlags.Fast, ZCard, 1, 1, 1);
        table.Add("zscore", 3, CommandFlags.ReadOnly | CommandFlags.Fast, ZScore, 1, 1, 1);
        table.Add("zrank", 3, CommandFlags.ReadOnly | CommandFlags.Fast, ZRank, 1, 1, 1);
        table.Add("zrevrank", 3, CommandFlags.ReadOnly | CommandFlags.Fast, ZRevRank, 1, 1, 1);
        table.Add("zscan", -3, CommandFlags.ReadOnly | CommandFlags.Random, ZScan, 1, 1, 1);
        table.Add("zpopmin", -2, CommandFlags.Write | CommandFlags.Fast, ZPopMin, 1, 1, 1);
        table.Add("zpopmax", -2, CommandFlags.Write | CommandFlags.Fast, ZPopMax, 1, 1, 1);
        RegisterRedis7(table);
    }

    // ------------------------------------------------------------------
    // ZADD, ZINCRBY
    // ------------------------------------------------------------------

    [Flags]
    private enum AddFlags
    {
        None = 0,
        Nx = 1,
        Xx = 2,
        Gt = 4,
        Lt = 8,
        Ch = 16,
        Incr = 32,
    }

    private static void ZAdd(CommandContext ctx, in CommandArgs args) => AddCommand(ctx, args, AddFlags.None);

    /// <summary>Runs a ZADD request built by another command (GEOADD turns positions into scores and calls ZADD, as Redis does).</summary>
    internal static void ZAddFrom(CommandContext ctx, in CommandArgs zadd) => AddCommand(ctx, zadd, AddFlags.None);

    private static void AddCommand(CommandContext ctx, in CommandArgs args, AddFlags flags)
    {
        int scoreIndex = 2;
        for (; scoreIndex < args.Count; scoreIndex++)
        {
            var a = args[scoreIndex];
            if (Keyword.Is(a, "NX"u8))
                flags |= AddFlags.Nx;
            else if (Keyword.Is(a, "XX"u8))
                flags |= AddFlags.Xx;
            else if (Keyword.Is(a, "GT"u8))
                flags |= AddFlags.Gt;
            else if (Keyword.Is(a, "LT"u8))
                flags |= AddFlags.Lt;
            else if (Keyword.Is(a, "CH"u8))
                flags |= AddFlags.Ch;
            else if (Keyword.Is(a, "INCR"u8))
                flags |= AddFlags.Incr;
            else
                break;
        }
        int elements = args.Count - scoreIndex;
        if (elements == 0 || elements % 2 != 0)
        {
            ctx.SyntaxError();
            return;
        }
        elements /= 2;
        if ((flags & (AddFlags.Nx | AddFlags.Xx)) == (AddFlags.Nx | AddFlags.Xx))
        {
            ctx.Reply.WriteError("ERR XX and NX options at the same time are not compatible"u8);
            return;
        }
        bool nx = (flags & AddFlags.Nx) != 0, gt = (flags & AddFlags.Gt) != 0, lt = (flags & AddFlags.Lt) != 0;
        if ((gt && nx) || (lt && nx) || (gt && lt))
        {
            ctx.Reply.WriteError("ERR GT, LT, and/or NX options at the same time are not compatible"u8);
            return;
        }
        if ((flags & AddFlags.Incr) != 0 && elements > 1)
        {
            ctx.Reply.WriteError("ERR INCR option supports a single increment-element pair"u8);
            return;
        }
        // Every score is checked before anything changes: the command applies whole or not at all.
        for (int j = 0; j < elements; j++)
        {
            if (!Numbers.TryParseDouble(args[scoreIndex + j * 2], out _))
            {
                ctx.Reply.WriteError(ErrorReplies.NotFloat);
                return;
            }
        }
        AddGeneric(ctx, args, scoreIndex, elements, flags);
    }

    /// <summary>ZINCRBY is ZADD ... INCR (Redis's zaddGenericCommand): it reads ZADD's options too.</summary>
    private static void ZIncrBy(CommandContext ctx, in CommandArgs args) => AddCommand(ctx, args, AddFlags.Incr);

    private static void AddGeneric(CommandContext ctx, in CommandArgs args, int scoreIndex, int elements, AddFlags flags)
    {
        var db = ctx.Db;
        var key = args[1];
        var entry = db.LookupWrite(key);
        if (entry.IsNot(ValueKind.SortedSet))
        {
            ctx.WrongType();
            return;
        }
        bool incr = (flags & AddFlags.Incr) != 0;
        bool isNew = !entry.Exists;
        if (isNew && (flags & AddFlags.Xx) != 0)
        {
            if (incr)
                ctx.Reply.WriteNullBulk();
            else
                ctx.Reply.WriteInteger(0);
            return;
        }
        var zset = isNew ? new SortedSetObject() : entry.As<SortedSetObject>();
        long maxEntries = ctx.Options.ZsetMaxZiplistEntries, maxValue = ctx.Options.ZsetMaxZiplistValue;
        if (isNew)
        {
            // Redis sizes a new sorted set's encoding by the request: its pairs and its longest member.
            int longest = 0;
            for (int j = 0; j < elements; j++)
                longest = Math.Max(longest, args[scoreIndex + j * 2 + 1].Length);
            zset.Compact = maxEntries != 0 && elements <= maxEntries && longest <= maxValue;
        }
        long added = 0, updated = 0, processed = 0;
        double score = 0;
        for (int j = 0; j < elements; j++)
        {
            Numbers.TryParseDouble(args[scoreIndex + j * 2], out score);
            var member = args[scoreIndex + j * 2 + 1];
            var node = zset.Find(member);
            if (node is not null)
            {
                if ((flags & AddFlags.Nx) != 0)
                    continue;
                double current = node.Score;
                if (incr)
                {
                    score += current;
                    if (double.IsNaN(score))
                    {
                        CollectionHelpers.StoreChanges(db, key, zset, isNew && zset.Count > 0, added + updated);
                        ctx.Reply.WriteError(NanScore);
                        return;
                    }
                }
                if (((flags & AddFlags.Lt) != 0 && score >= current) || ((flags & AddFlags.Gt) != 0 && score <= current))
                    continue;
                processed++;
                if (score != current)
                {
                    zset.UpdateScore(node, score);
                    updated++;
                }
            }
            else if ((flags & AddFlags.Xx) == 0)
            {
                if (zset.Compact && (zset.Count + 1 > maxEntries || member.Length > maxValue))
                    zset.Compact = false;
                zset.Add(member, score);
                added++;
                processed++;
            }
        }
        if (!isNew || zset.Count > 0)
            CollectionHelpers.StoreChanges(db, key, zset, isNew, added + updated);
        if (added + updated > 0)
            ctx.Notify(KeyspaceEventClass.ZSet, incr ? "zincr"u8 : "zadd"u8, key);
        if (incr)
        {
            if (processed > 0)
                CollectionHelpers.WriteScore(ctx.Reply, score);
            else
                ctx.Reply.WriteNullBulk();
        }
        else
        {
            ctx.Reply.WriteInteger((flags & AddFlags.Ch) != 0 ? added + updated : added);
        }
    }

    // ------------------------------------------------------------------
    // Simple reads and removals
    // ------------------------------------------------------------------

    private static void ZRem(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var key = args[1];
        if (!LookupOrZero(ctx, key, out var zset, write: true))
            return;
        long removed = 0;
        for (int i = 2; i < args.Count && zset.Count > 0; i++)
        {
            if (zset.Remove(args[i]))
                removed++;
        }
        FinishRemoval(ctx, key, zset, removed, "zrem"u8);
        ctx.Reply.WriteInteger(removed);
    }

    /// <summary>After members were removed: the command's event, and the key's deletion when none is left (nothing when none was removed).</summary>
    private static void FinishRemoval(CommandContext ctx, ReadOnlySpan<byte> key, SortedSetObject zset, long removed, ReadOnlySpan<byte> eventName)
    {
        if (removed > 0)
            CollectionHelpers.AfterRemoval(ctx.Notifier, ctx.Db, key, zset, removed, KeyspaceEventClass.ZSet, eventName);
    }

    private static void ZCard(CommandContext ctx, in CommandArgs args)
    {
        var entry = ctx.Db.LookupRead(args[1]);
        if (entry.IsNot(ValueKind.SortedSet))
            ctx.WrongType();
        else
            ctx.Reply.WriteInteger(entry.Exists ? entry.As<SortedSetObject>().Count : 0);
    }

    private static void ZScore(CommandContext ctx, in CommandArgs args)
    {
        var entry = ctx.Db.LookupRead(args[1]);
        if (entry.IsNot(ValueKind.SortedSet))
            ctx.WrongType();
        else if (entry.Exists && entry.As<SortedSetObject>().TryGetScore(args[2], out double score))
            CollectionHelpers.WriteScore(ctx.Reply, score);
        else
            ctx.Reply.WriteNullBulk();
    }

    private static void ZRank(CommandContext ctx, in CommandArgs args) => RankGeneric(ctx, args, reverse: false);

    private static void ZRevRank(CommandContext ctx, in CommandArgs args) => RankGeneric(ctx, args, reverse: true);

    private static void RankGeneric(CommandContext ctx, in CommandArgs args, bool reverse)
    {
        if (!CollectionHelpers.LookupOrNil(ctx, args[1], ValueKind.SortedSet, out var entry))
            return;
        var zset = entry.As<SortedSetObject>();
        var node = zset.Find(args[2]);
        if (node is null)
        {
            ctx.Reply.WriteNullBulk();
            return;
        }
        long rank = zset.RankOf(node);
        ctx.Reply.WriteInteger(reverse ? zset.Count - 1 - rank : rank);
    }

    // ------------------------------------------------------------------
    // Ranges
    // ------------------------------------------------------------------

    private enum RangeType
    {
        Auto,
        Rank,
        Score,
        Lex,
    }

    private enum Direction
    {
        Auto,
        Forward,
        Reverse,
    }

    private static void ZRange(CommandContext ctx, in CommandArgs args) => RangeGeneric(ctx, args, RangeType.Auto, Direction.Auto);

    private static void ZRevRange(CommandContext ctx, in CommandArgs args) => RangeGeneric(ctx, args, RangeType.Rank, Direction.Reverse);

    private static void ZRangeByScore(CommandContext ctx, in CommandArgs args) => RangeGeneric(ctx, args, RangeType.Score, Direction.Forward);

    private static void ZRevRangeByScore(CommandContext ctx, in CommandArgs args) => RangeGeneric(ctx, args, RangeType.Score, Direction.Reverse);

    private static void ZRangeByLex(CommandContext ctx, in CommandArgs args) => RangeGeneric(ctx, args, RangeType.Lex, Direction.Forward);

    private static void ZRevRangeByLex(CommandContext ctx, in CommandArgs args) => RangeGeneric(ctx, args, RangeType.Lex, Direction.Reverse);

    /// <summary>
    /// ZRANGE key min max [BYSCORE|BYLEX] [REV] [LIMIT offset count] [WITHSCORES] (Redis 6.2's form), and
    /// the older commands, which fix the range type and direction.
    /// </summary>
    /// <summary>
    /// ZRANGE and its older forms, and with <paramref name="store"/> ZRANGESTORE (whose arguments are one further
    /// on, after the destination, and which takes no WITHSCORES): the members in range are collected, then
    /// replied or stored.
    /// </summary>
    private static void RangeGeneric(CommandContext ctx, in CommandArgs args, RangeType type, Direction direction, bool store = false)
    {
        int shift = store ? 1 : 0;
        bool withScores = false;
        long offset = 0, limit = -1;
        bool hasLimit = false;
        for (int j = 4 + shift; j < args.Count; j++)
        {
            int left = args.Count - j - 1;
            var a = args[j];
            if (!store && Keyword.Is(a, "WITHSCORES"u8))
            {
                withScores = true;
            }
            else if (Keyword.Is(a, "LIMIT"u8) && left >= 2)
            {
                if (!Numbers.TryParseInt64(args[j + 1], out offset) || !Numbers.TryParseInt64(args[j + 2], out limit))
                {
                    ctx.NotInteger();
                    return;
                }
                hasLimit = true;
                j += 2;
            }
            else if (direction == Direction.Auto && Keyword.Is(a, "REV"u8))
            {
                direction = Direction.Reverse;
            }
            else if (type == RangeType.Auto && Keyword.Is(a, "BYLEX"u8))
            {
                type = RangeType.Lex;
            }
            else if (type == RangeType.Auto && Keyword.Is(a, "BYSCORE"u8))
            {
                type = RangeType.Score;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        if (direction == Direction.Auto)
            direction = Direction.Forward;
        if (type == RangeType.Auto)
            type = RangeType.Rank;
        if (hasLimit && limit != -1 && type == RangeType.Rank)
        {
            ctx.Reply.WriteError("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"u8);
            return;
        }
        if (withScores && type == RangeType.Lex)
        {
            ctx.Reply.WriteError("ERR syntax error, WITHSCORES not supported in combination with BYLEX"u8);
            return;
        }
        bool reverse = direction == Direction.Reverse;
        int minIndex = 2 + shift, maxIndex = 3 + shift;
        if (reverse && type != RangeType.Rank)
            (minIndex, maxIndex) = (maxIndex, minIndex);
        var source = args[1 + shift];
        var nodes = ctx.Scratch.Nodes;
        SortedSetObject zset;

        switch (type)
        {
            case RangeType.Rank:
            {
                if (!Numbers.TryParseInt64(args[minIndex], out long start) || !Numbers.TryParseInt64(args[maxIndex], out long end))
                {
                    ctx.NotInteger();
                    return;
                }
                if (!LookupForRange(ctx, source, store, out zset))
                    return;
                if (CollectionHelpers.ClampRange(start, end, zset.Count, out long first, out long last))
                {
                    long length = last - first + 1;
                    var node = zset.ByRank(reverse ? zset.Count - 1 - first : first);
                    for (long i = 0; i < length; i++)
                    {
                        nodes.Add(node!);
                        node = reverse ? node!.Backward : node!.Next;
                    }
                }
                break;
            }
            case RangeType.Score:
            {
                if (!TryParseScoreRange(args[minIndex], args[maxIndex], out var range))
                {
                    ctx.Reply.WriteError(NotFloatRange);
                    return;
                }
                if (!LookupForRange(ctx, source, store, out zset))
                    return;
                var node = reverse ? zset.LastInRange(range) : zset.FirstInRange(range);
                node = Skip(node, offset, reverse);
                for (; node is not null && limit-- != 0; node = reverse ? node.Backward : node.Next)
                {
                    if (reverse ? !range.GteMin(node.Score) : !range.LteMax(node.Score))
                        break;
                    nodes.Add(node);
                }
                break;
            }
            default:
            {
                if (!TryParseLexRange(args[minIndex], args[maxIndex], out var range))
                {
                    ctx.Reply.WriteError(NotLexRange);
                    return;
                }
                if (!LookupForRange(ctx, source, store, out zset))
                    return;
                var node = reverse ? zset.LastInRange(range) : zset.FirstInRange(range);
                node = Skip(node, offset, reverse);
                for (; node is not null && limit-- != 0; node = reverse ? node.Backward : node.Next)
                {
                    if (reverse ? !range.GteMin(zset.MemberOf(node)) : !range.LteMax(zset.MemberOf(node)))
                        break;
                    nodes.Add(node);
                }
                break;
            }
        }
        if (store)
            StoreNodes(ctx, args[1], zset, nodes);
        else
            WriteNodes(ctx.Reply, zset, nodes, withScores);
    }

    /// <summary>
    /// The source of a range: false after WRONGTYPE, or (replying) after an empty reply for a missing key; a
    /// missing key is an empty sorted set when the range is to be stored.
    /// </summary>
    private static bool LookupForRange(CommandContext ctx, ReadOnlySpan<byte> key, bool store, out SortedSetObject zset)
    {
        if (!store)
            return LookupOrEmpty(ctx, key, out zset);
        zset = null!;
        var entry = ctx.Db.LookupRead(key);
        if (entry.IsNot(ValueKind.SortedSet))
        {
            ctx.WrongType();
            return false;
        }
        zset = entry.Exists ? entry.As<SortedSetObject>() : new SortedSetObject();
        return true;
    }

    /// <summary>Steps over LIMIT's offset (a negative offset leaves nothing, as in redis-server).</summary>
    private static Node? Skip(Node? node, long offset, bool reverse)
    {
        if (offset < 0)
            return null;
        while (node is not null && offset-- > 0)
            node = reverse ? node.Backward : node.Next;
        return node;
    }

    private static bool LookupOrEmpty(CommandContext ctx, ReadOnlySpan<byte> key, out SortedSetObject zset)
    {
        zset = null!;
        var entry = ctx.Db.LookupRead(key);
        if (!entry.Exists)
        {
            ctx.Reply.WriteArrayHeader(0);
            return false;
        }
        if (entry.Kind != ValueKind.SortedSet)
        {
            ctx.WrongType();
            return false;
        }
        zset = entry.As<SortedSetObject>();
        return true;
    }

    /// <summary>
    /// The header of a reply of <paramref name="members"/> members: with scores, RESP2 flattens the member/score
    /// pairs into one array, RESP3 nests each pair (<see cref="WriteNode"/> writes the pair's own header).
    /// </summary>
    private static void WriteRangeHeader(ReplyWriter reply, long members, bool withScores)
        => reply.WriteArrayHeader(withScores && !reply.Resp3 ? members * 2 : members);

    private static void WriteNode(ReplyWriter reply, SortedSetObject zset, Node node, bool withScores)
    {
        if (withScores && reply.Resp3)
            reply.WriteArrayHeader(2);
        reply.WriteBulk(zset.MemberOf(node));
        if (withScores)
            CollectionHelpers.WriteScore(reply, node.Score);
    }

    private static void WriteNodes(ReplyWriter reply, SortedSetObject zset, List<Node> nodes, bool withScores)
    {
        WriteRangeHeader(reply, nodes.Count, withScores);
        foreach (var node in nodes)
            WriteNode(reply, zset, node, withScores);
        nodes.Clear();
    }

    /// <summary>Parses a score bound: a float, "(" before it for an exclusive bound (zslParseRange's rules).</summary>
    private static bool TryParseScoreBound(ReadOnlySpan<byte> text, out double value, out bool exclusive)
    {
        // zslParseRange reads a C string (up to a NUL byte) with strtod and checks only that nothing is left
        // over and that it is not NaN: an overflow is ±inf, an underflow 0.
        int nul = text.IndexOf((byte)0);
        if (nul >= 0)
            text = text[..nul];
        exclusive = text.Length > 0 && text[0] == (byte)'(';
        if (exclusive)
            text = text[1..];
        // strtod skips leading blanks and reads an empty string as 0; NaN is refused.
        while (text.Length > 0 && text[0] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f')
            text = text[1..];
        if (text.IsEmpty)
        {
            value = 0;
            return true;
        }
        return Numbers.TryParseStrtod(text, out value, checkRange: false);
    }

    internal static bool TryParseScoreRange(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out ScoreRange range)
    {
        range = default;
        if (!TryParseScoreBound(min, out double lo, out bool loEx) || !TryParseScoreBound(max, out double hi, out bool hiEx))
            return false;
        range = new ScoreRange(lo, loEx, hi, hiEx);
        return true;
    }

    private static bool TryParseLexBound(ReadOnlySpan<byte> text, out ReadOnlySpan<byte> value, out int infinity, out bool exclusive)
    {
        value = default;
        infinity = 0;
        exclusive = false;
        if (text.IsEmpty)
            return false;
        switch (text[0])
        {
            case (byte)'+':
                infinity = 1;
                return text.Length == 1;
            case (byte)'-':
                infinity = -1;
                return text.Length == 1;
            case (byte)'(':
                exclusive = true;
                value = text[1..];
                return true;
            case (byte)'[':
                value = text[1..];
                return true;
            default:
                return false;
        }
    }

    internal static bool TryParseLexRange(ReadOnlySpan<byte> min, ReadOnlySpan<byte> max, out LexRange range)
    {
        range = default;
        if (!TryParseLexBound(min, out var lo, out int loInf, out bool loEx) || !TryParseLexBound(max, out var hi, out int hiInf, out bool hiEx))
            return false;
        range = new LexRange(lo, loInf, loEx, hi, hiInf, hiEx);
        return true;
    }

    private static void ZCount(CommandContext ctx, in CommandArgs args)
    {
        if (!TryParseScoreRange(args[2], args[3], out var range))
        {
            ctx.Reply.WriteError(NotFloatRange);
            return;
        }
        if (!LookupOrZero(ctx, args[1], out var zset))
            return;
        var first = zset.FirstInRange(range);
        ctx.Reply.WriteInteger(first is null ? 0 : zset.RankOf(zset.LastInRange(range)!) - zset.RankOf(first) + 1);
    }

    private static void ZLexCount(CommandContext ctx, in CommandArgs args)
    {
        if (!TryParseLexRange(args[2], args[3], out var range))
        {
            ctx.Reply.WriteError(NotLexRange);
            return;
        }
        if (!LookupOrZero(ctx, args[1], out var zset))
            return;
        var first = zset.FirstInRange(range);
        ctx.Reply.WriteInteger(first is null ? 0 : zset.RankOf(zset.LastInRange(range)!) - zset.RankOf(first) + 1);
    }

    private static bool LookupOrZero(CommandContext ctx, ReadOnlySpan<byte> key, out SortedSetObject zset, bool write = false)
        => CollectionHelpers.LookupOrZero(ctx, key, ValueKind.SortedSet, out zset, write);

    private static void ZRemRangeByRank(CommandContext ctx, in CommandArgs args)
    {
        if (!Numbers.TryParseInt64(args[2], out long start) || !Numbers.TryParseInt64(args[3], out long end))
        {
            ctx.NotInteger();
            return;
        }
        if (!LookupOrZero(ctx, args[1], out var zset, write: true))
            return;
        if (!CollectionHelpers.ClampRange(start, end, zset.Count, out long first, out long last))
        {
            ctx.Reply.WriteInteger(0);
            return;
        }
        var nodes = ctx.Scratch.Nodes;
        var node = zset.ByRank(first);
        for (long i = first; i <= last; i++, node = node!.Next)
            nodes.Add(node!);
        RemoveNodes(ctx, args[1], zset, nodes, "zremrangebyrank"u8);
    }

    private static void ZRemRangeByScore(CommandContext ctx, in CommandArgs args)
    {
        if (!TryParseScoreRange(args[2], args[3], out var range))
        {
            ctx.Reply.WriteError(NotFloatRange);
            return;
        }
        if (!LookupOrZero(ctx, args[1], out var zset, write: true))
            return;
        var nodes = ctx.Scratch.Nodes;
        for (var node = zset.FirstInRange(range); node is not null && range.LteMax(node.Score); node = node.Next)
            nodes.Add(node);
        RemoveNodes(ctx, args[1], zset, nodes, "zremrangebyscore"u8);
    }

    private static void ZRemRangeByLex(CommandContext ctx, in CommandArgs args)
    {
        if (!TryParseLexRange(args[2], args[3], out var range))
        {
            ctx.Reply.WriteError(NotLexRange);
            return;
        }
        if (!LookupOrZero(ctx, args[1], out var zset, write: true))
            return;
        var nodes = ctx.Scratch.Nodes;
        for (var node = zset.FirstInRange(range); node is not null && range.LteMax(zset.MemberOf(node)); node = node.Next)
            nodes.Add(node);
        RemoveNodes(ctx, args[1], zset, nodes, "zremrangebylex"u8);
    }

    private static void RemoveNodes(CommandContext ctx, ReadOnlySpan<byte> key, SortedSetObject zset, List<Node> nodes, ReadOnlySpan<byte> eventName)
    {
        foreach (var node in nodes)
            zset.Delete(node);
        long removed = nodes.Count;
        nodes.Clear();
        FinishRemoval(ctx, key, zset, removed, eventName);
        ctx.Reply.WriteInteger(removed);
    }

    // ------------------------------------------------------------------
    // ZPOPMIN, ZPOPMAX
    // ------------------------------------------------------------------

    private static void ZPopMin(CommandContext ctx, in CommandArgs args) => PopGeneric(ctx, args, max: false);

    private static void ZPopMax(CommandContext ctx, in CommandArgs args) => PopGeneric(ctx, args, max: true);

    private static void PopGeneric(CommandContext ctx, in CommandArgs args, bool max)
    {
        if (args.Count > 3)
        {
            ctx.SyntaxError();
            return;
        }
        long count = 1;
        if (args.Count == 3 && !SetCommands.TryParsePositive(ctx, args[2], out count))
            return;
        var db = ctx.Db;
        var key = args[1];
        var entry = db.LookupWrite(key);
        if (!entry.Exists)
        {
            ctx.Reply.WriteArrayHeader(0);
            return;
        }
        if (entry.Kind != ValueKind.SortedSet)
        {
            ctx.WrongType();
            return;
        }
        var zset = entry.As<SortedSetObject>();
        long n = Math.Min(count, zset.Count);
        // Without a count, RESP3 too answers one flat [member, score]; with one, a pair per member.
        bool flat = args.Count == 2 || !ctx.Reply.Resp3;
        ctx.Reply.WriteArrayHeader(flat ? n * 2 : n);
        for (long i = 0; i < n; i++)
        {
            var node = max ? zset.Last! : zset.First!;
            if (!flat)
                ctx.Reply.WriteArrayHeader(2);
            ctx.Reply.WriteBulk(zset.MemberOf(node));
            CollectionHelpers.WriteScore(ctx.Reply, node.Score);
            zset.Delete(node);
        }
        FinishRemoval(ctx, key, zset, n, max ? "zpopmax"u8 : "zpopmin"u8);
    }

    // ------------------------------------------------------------------
    // ZUNIONSTORE, ZINTERSTORE
    // ------------------------------------------------------------------

    private enum Aggregate
    {
        Sum,
        Min,
        Max,
    }

    /// <summary>The operations of ZUNION*, ZINTER*, ZDIFF* and ZINTERCARD.</summary>
    private enum ZOperation
    {
        Union,
        Inter,
        Diff,
    }

    private static void ZUnionStore(CommandContext ctx, in CommandArgs args) => UnionInterGeneric(ctx, args, ZOperation.Union, 2, store: true);

    private static void ZInterStore(CommandContext ctx, in CommandArgs args) => UnionInterGeneric(ctx, args, ZOperation.Inter, 2, store: true);

    /// <summary>A source of ZUNIONSTORE/ZINTERSTORE: a sorted set, a set (every score 1), or nothing.</summary>
    private readonly record struct Source(SortedSetObject? Zset, SetObject? Set, double Weight)
    {
        public long Count => Zset?.Count ?? Set?.Count ?? 0;

        public bool TryGetScore(ReadOnlySpan<byte> member, out double score)
        {
            if (Zset is not null)
                return Zset.TryGetScore(member, out score);
            score = 1;
            return Set is not null && Set.Contains(member);
        }
    }

    /// <summary>
    /// ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE (<paramref name="store"/>: the destination is argument 1), ZUNION,
    /// ZINTER, ZDIFF and ZINTERCARD (<paramref name="cardinality"/>), as Redis 7.0's
    /// zunionInterDiffGenericCommand reads and computes them: numkeys at <paramref name="numKeysIndex"/>, the
    /// keys (sets count as sorted sets of score 1), then WEIGHTS and AGGREGATE (not for ZDIFF), WITHSCORES (not
    /// when storing) or LIMIT (ZINTERCARD only).
    /// </summary>
    private static void UnionInterGeneric(CommandContext ctx, in CommandArgs args, ZOperation operation, int numKeysIndex, bool store, bool cardinality = false)
    {
        if (!Numbers.TryParseInt64(args[numKeysIndex], out long numKeys))
        {
            ctx.NotInteger();
            return;
        }
        if (numKeys < 1)
        {
            ctx.Reply.WriteError("ERR at least 1 input key is needed for '" + ctx.Command.Name + "' command");
            return;
        }
        if (numKeys > args.Count - numKeysIndex - 1)
        {
            ctx.SyntaxError();
            return;
        }
        var db = ctx.Db;
        var sources = new Source[numKeys];
        for (int i = 0; i < numKeys; i++)
        {
            var entry = db.LookupRead(args[numKeysIndex + 1 + i]);
            if (entry.Exists && entry.Kind is not (ValueKind.SortedSet or ValueKind.Set))
            {
                ctx.WrongType();
                return;
            }
            sources[i] = !entry.Exists ? new Source(null, null, 1)
                : entry.Kind == ValueKind.Set ? new Source(null, entry.As<SetObject>(), 1)
                : new Source(entry.As<SortedSetObject>(), null, 1);
        }
        var aggregate = Aggregate.Sum;
        bool withScores = false;
        long limit = 0;
        bool weighted = operation != ZOperation.Diff && !cardinality;
        for (int j = numKeysIndex + 1 + (int)numKeys; j < args.Count; j++)
        {
            int left = args.Count - j - 1;
            if (weighted && Keyword.Is(args[j], "WEIGHTS"u8) && left >= numKeys)
            {
                for (int i = 0; i < numKeys; i++)
                {
                    if (!Numbers.TryParseDouble(args[j + 1 + i], out double weight))
                    {
                        ctx.Reply.WriteError("ERR weight value is not a float"u8);
                        return;
                    }
                    sources[i] = sources[i] with { Weight = weight };
                }
                j += (int)numKeys;
            }
            else if (weighted && Keyword.Is(args[j], "AGGREGATE"u8) && left >= 1)
            {
                var a = args[j + 1];
                if (Keyword.Is(a, "SUM"u8))
                    aggregate = Aggregate.Sum;
                else if (Keyword.Is(a, "MIN"u8))
                    aggregate = Aggregate.Min;
                else if (Keyword.Is(a, "MAX"u8))
                    aggregate = Aggregate.Max;
                else
                {
                    ctx.SyntaxError();
                    return;
                }
                j++;
            }
            else if (!store && !cardinality && Keyword.Is(args[j], "WITHSCORES"u8))
            {
                withScores = true;
            }
            else if (cardinality && Keyword.Is(args[j], "LIMIT"u8) && left >= 1)
            {
                if (!CollectionHelpers.TryParseNonNegative(ctx, args[++j], "ERR LIMIT can't be negative"u8, out limit))
                    return;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }

        // ZDIFF keeps the first key first: the others are removed from it.
        if (operation == ZOperation.Diff)
        {
            var first = sources[0];
            var difference = new SortedSetObject { Compact = false };
            foreach (var (member, score) in Elements(first))
            {
                bool elsewhere = false;
                for (int i = 1; i < sources.Length && !elsewhere; i++)
                    elsewhere = sources[i].TryGetScore(member, out _);
                if (!elsewhere)
                    difference.Add(member, score);
            }
            FinishOperation(ctx, args, difference, store, withScores, "zdiffstore"u8);
            return;
        }

        // Inputs are taken smallest first (a stable order, as redis-server's sort of them is): the order of
        // the aggregation decides rounding, and whether inf + -inf (NaN, hence 0) happens at all.
        var ordered = sources.OrderBy(s => s.Count).ToArray();
        var result = new SortedSetObject { Compact = false };
        if (operation == ZOperation.Union)
        {
            var scores = new Dictionary<byte[], double>(ByteArrayComparer.Instance);
            var order = new List<byte[]>();
            foreach (var source in ordered)
            {
                foreach (var (member, raw) in Elements(source))
                {
                    double score = Weighted(source.Weight, raw);
                    if (scores.TryGetValue(member, out double existing))
                        scores[member] = Combine(existing, score, aggregate);
                    else
                    {
                        scores[member] = score;
                        order.Add(member);
                    }
                }
            }
            foreach (var member in order)
                result.Add(member, scores[member]);
        }
        else
        {
            if (ordered[0].Count > 0)
            {
                foreach (var (member, raw) in Elements(ordered[0]))
                {
                    double score = Weighted(ordered[0].Weight, raw);
                    bool everywhere = true;
                    for (int i = 1; i < ordered.Length; i++)
                    {
                        if (!ordered[i].TryGetScore(member, out double other))
                        {
                            everywhere = false;
                            break;
                        }
                        score = Combine(score, Weighted(ordered[i].Weight, other), aggregate);
                    }
                    if (everywhere)
                        result.Add(member, score);
                }
            }
        }
        if (cardinality)
        {
            ctx.Reply.WriteInteger(limit == 0 ? result.Count : Math.Min(result.Count, limit));
            return;
        }
        FinishOperation(ctx, args, result, store, withScores, operation == ZOperation.Union ? "zunionstore"u8 : "zinterstore"u8);
    }

    /// <summary>Replies the result of ZUNION, ZINTER or ZDIFF, or stores that of their STORE forms at argument 1.</summary>
    private static void FinishOperation(CommandContext ctx, in CommandArgs args, SortedSetObject result, bool store, bool withScores, ReadOnlySpan<byte> storeEvent)
    {
        if (!store)
        {
            var reply = ctx.Reply;
            WriteRangeHeader(reply, result.Count, withScores);
            for (var node = result.First; node is not null; node = node.Next)
                WriteNode(reply, result, node, withScores);
            return;
        }
        StoreResult(ctx, args[1], result, storeEvent);
    }

    /// <summary>
    /// Stores a computed sorted set at <paramref name="dstKey"/> (an empty one deletes the key), replying its
    /// size and notifying <paramref name="storeEvent"/>: ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, ZRANGESTORE and the geo STOREs.
    /// </summary>
    internal static void StoreResult(CommandContext ctx, ReadOnlySpan<byte> dstKey, SortedSetObject result, ReadOnlySpan<byte> storeEvent)
    {
        if (result.Count > 0)
        {
            // The result takes the compact encoding when it fits (and keeps its -0 scores when it does not).
            result.Compact = true;
            result.Compact = result.EncodingName(CollectionHelpers.Limits(ctx)) == "ziplist";
            if (result.Compact)
                result.NormalizeZeros();
        }
        ctx.Db.LookupWrite(dstKey);
        CollectionHelpers.StoreResult(ctx, dstKey, result, KeyspaceEventClass.ZSet, storeEvent);
        ctx.Reply.WriteInteger(result.Count);
    }

    private static IEnumerable<(byte[] Member, double Score)> Elements(Source source)
    {
        if (source.Zset is not null)
            return source.Zset.Entries;
        if (source.Set is not null)
            return source.Set.MemberCopies().Select(m => (m, 1.0));
        return [];
    }

    private static double Weighted(double weight, double score)
    {
        double value = weight * score;
        return double.IsNaN(value) ? 0 : value;
    }

    private static double Combine(double target, double value, Aggregate aggregate)
    {
        switch (aggregate)
        {
            case Aggregate.Sum:
                double sum = target + value;
                return double.IsNaN(sum) ? 0 : sum;
            case Aggregate.Min:
                return value < target ? value : target;
            default:
                return value > target ? value : target;
        }
    }

    // ------------------------------------------------------------------
    // ZSCAN
    // ------------------------------------------------------------------

    private static void ZScan(CommandContext ctx, in CommandArgs args)
    {
        if (!CollectionHelpers.TryParseCursor(ctx, args[2], out ulong cursor))
            return;
        var entry = ctx.Db.LookupRead(args[1]);
        if (!entry.Exists)
        {
            ctx.Reply.WriteRaw("*2\r\n$1\r\n0\r\n*0\r\n"u8);
            return;
        }
        if (entry.Kind != ValueKind.SortedSet)
        {
            ctx.WrongType();
            return;
        }
        if (!CollectionHelpers.TryParseScanOptions(ctx, args, out int patternIndex, out long count))
            return;
        var zset = entry.As<SortedSetObject>();
        var found = new List<Node>();
        if (zset.EncodingName(CollectionHelpers.Limits(ctx)) == "ziplist")
        {
            // A compact sorted set is returned whole, in order, in one step, as redis-server does.
            for (var node = zset.First; node is not null; node = node.Next)
                found.Add(node);
            cursor = 0;
        }
        else
        {
            long budget = count * 10;
            do
            {
                cursor = zset.ScanStep(cursor, found.Add);
            }
            while (cursor != 0 && --budget > 0 && found.Count < count);
        }
        if (patternIndex != 0)
        {
            var pattern = args[patternIndex].ToArray();
            found.RemoveAll(n => !GlobMatcher.IsMatch(pattern, zset.MemberOf(n)));
        }
        ctx.Reply.WriteArrayHeader(2);
        ctx.Reply.WriteBulk((long)cursor);
        ctx.Reply.WriteArrayHeader(found.Count * 2);
        foreach (var node in found)
        {
            ctx.Reply.WriteBulk(zset.MemberOf(node));
            CollectionHelpers.WriteScoreBulk(ctx.Reply, node.Score);
        }
    }
}
