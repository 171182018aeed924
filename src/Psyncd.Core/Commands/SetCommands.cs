using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>Set commands.</summary>
internal static partial class SetCommands
{
    /// <summary>SPOP with a count propagates its pops as SREMs of at most this many members (as Redis 7 does).</summary>
    private const int SremBatch = 1024;

    public static void Register(CommandTable table)
    {
        table.Add("sadd", -3, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, SAdd, 1, 1, 1);
        table.Add("srem", -3, CommandFlags.Write | CommandFlags.Fast, SRem, 1, 1, 1);
        table.Add("smove", 4, CommandFlags.Write | CommandFlags.Fast, SMove, 1, 2, 1);
        table.Add("sismember", 3, CommandFlags.ReadOnly | CommandFlags.Fast, SIsMember, 1, 1, 1);
        table.Add("scard", 2, CommandFlags.ReadOnly | CommandFlags.Fast, SCard, 1, 1, 1);
        table.Add("spop", -2, CommandFlags.Write | CommandFlags.Random | CommandFlags.NoScript | CommandFlags.Fast, SPop, 1, 1, 1);
        table.Add("srandmember", -2, CommandFlags.ReadOnly | CommandFlags.Random, SRandMember, 1, 1, 1);
        table.Add("sinter", -2, CommandFlags.ReadOnly | CommandFlags.SortForScript, SInter, 1, -1, 1);
        table.Add("sinterstore", -3, CommandFlags.Write | CommandFlags.DenyOom, SInterStore, 1, -1, 1);
        table.Add("sunion", -2, CommandFlags.ReadOnly | CommandFlags.SortForScript, SUnion, 1, -1, 1);
        table.Add("sunionstore", -3, CommandFlags.Write | CommandFlags.DenyOom, SUnionStore, 1, -1, 1);
        table.Add("sdiff", -2, CommandFlags.ReadOnly | CommandFlags.SortForScript, SDiff, 1, -1, 1);
        table.Add("sdiffstore", -3, CommandFlags.Write | CommandFlags.DenyOom, SDiffStore, 1, -1, 1);
        table.Add("smembers", 2, CommandFlags.ReadOnly | CommandFlags.SortForScript, SMembers, 1, 1, 1);
        table.Add("sscan", -3, CommandFlags.ReadOnly | CommandFlags.Random, SScan, 1, 1, 1);
        table.Add("sintercard", -3, CommandFlags.ReadOnly, SInterCard);
        table.Add("smismember", -3, CommandFlags.ReadOnly | CommandFlags.Fast, SMIsMember, 1, 1, 1);
    }

    private static void SAdd(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var key = args[1];
        var entry = db.LookupWrite(key);
        if (entry.IsNot(ValueKind.Set))
        {
            ctx.WrongType();
            return;
        }
        bool isNew = !entry.Exists;
        var set = isNew ? new SetObject() : entry.As<SetObject>();
        long added = 0;
        for (int i = 2; i < args.Count; i++)
        {
            if (set.Add(args[i]))
                added++;
        }
        CollectionHelpers.StoreChanges(db, key, set, isNew, added);
        ctx.Reply.WriteInteger(added);
        if (added > 0)
            ctx.Notify(KeyspaceEventClass.Set, "sadd"u8, key);
    }

    private static void SRem(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var key = args[1];
        if (!CollectionHelpers.LookupOrZero(ctx, key, ValueKind.Set, out SetObject set, write: true))
            return;
        long removed = 0;
        for (int i = 2; i < args.Count && set.Count > 0; i++)
        {
            if (set.Remove(args[i]))
                removed++;
        }
        if (removed > 0)
            CollectionHelpers.AfterRemoval(ctx.Notifier, db, key, set, removed, KeyspaceEventClass.Set, "srem"u8);
        ctx.Reply.WriteInteger(removed);
    }

    private static void SMove(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var srcKey = args[1];
        var dstKey = args[2];
        var member = args[3];
        var src = db.LookupWrite(srcKey);
        bool srcExists = src.Exists;
        bool srcWrong = src.IsNot(ValueKind.Set);
        var srcObject = src.Object;
        var dst = db.LookupWrite(dstKey);
        if (!srcExists)
        {
            ctx.Reply.WriteInteger(0);
            return;
        }
        if (srcWrong || dst.IsNot(ValueKind.Set))
        {
            ctx.WrongType();
            return;
        }
        var srcSet = (SetObject)srcObject!;
        SetObject? dstSet = dst.Exists ? dst.As<SetObject>() : null;
        if (srcSet == dstSet)
        {
            ctx.Reply.WriteInteger(srcSet.Contains(member) ? 1 : 0);
            return;
        }
        // A new destination is a new record: refused for a full store before the member leaves the source.
        if (dstSet is null && srcSet.Contains(member))
            ctx.Keyspace.EnsureRoomForRecords(ctx.Keyspace.ObjectRecordBytes(dstKey.Length));
        if (!srcSet.Remove(member))
        {
            ctx.Reply.WriteInteger(0);
            return;
        }
        CollectionHelpers.AfterRemoval(ctx.Notifier, db, srcKey, srcSet, 1, KeyspaceEventClass.Set, "srem"u8);
        if (dstSet is null)
        {
            dstSet = new SetObject();
            dstSet.Add(member);
            db.SetObject(dstKey, dstSet);
            ctx.Notify(KeyspaceEventClass.Set, "sadd"u8, dstKey);
        }
        else if (dstSet.Add(member))
        {
            db.Modified(dstKey);
            ctx.Notify(KeyspaceEventClass.Set, "sadd"u8, dstKey);
        }
        ctx.Reply.WriteInteger(1);
    }

    private static void SIsMember(CommandContext ctx, in CommandArgs args)
    {
        var entry = ctx.Db.LookupRead(args[1]);
        if (entry.IsNot(ValueKind.Set))
            ctx.WrongType();
        else
            ctx.Reply.WriteInteger(entry.Exists && entry.As<SetObject>().Contains(args[2]) ? 1 : 0);
    }

    private static void SCard(CommandContext ctx, in CommandArgs args)
    {
        var entry = ctx.Db.LookupRead(args[1]);
        if (entry.IsNot(ValueKind.Set))
            ctx.WrongType();
        else
            ctx.Reply.WriteInteger(entry.Exists ? entry.As<SetObject>().Count : 0);
    }

    private static void SMembers(CommandContext ctx, in CommandArgs args)
    {
        var entry = ctx.Db.LookupRead(args[1]);
        if (entry.IsNot(ValueKind.Set))
        {
            ctx.WrongType();
            return;
        }
        if (!entry.Exists)
        {
            ctx.Reply.WriteSetHeader(0);
            return;
        }
        var set = entry.As<SetObject>();
        int count = (int)set.Count;
        ctx.Reply.WriteSetHeader(count);
        if (SortedIntegers(ctx, set) is { } integers)
        {
            foreach (long value in integers)
                ctx.Reply.WriteBulk(value);
            return;
        }
        for (int i = 0; i < count; i++)
            ctx.Reply.WriteBulk(set.MemberAt(i));
    }

    /// <summary>
    /// The members in ascending numeric order when redis-server would hold the set as an intset (all
    /// members integers, at most set-max-intset-entries of them), whose order clients then see; else null.
    /// </summary>
    private static long[]? SortedIntegers(CommandContext ctx, SetObject set)
    {
        if (set.Count > ctx.Options.SetMaxIntsetEntries)
            return null;
        var values = new long[set.Count];
        for (int i = 0; i < values.Length; i++)
        {
            if (!Numbers.TryParseInt64(set.MemberAt(i), out values[i]))
                return null;
        }
        Array.Sort(values);
        return values;
    }

    /// <summary>SPOP key [count]: random members removed; propagated as SREM (or DEL when all are popped).</summary>
    private static void SPop(CommandContext ctx, in CommandArgs args)
    {
        if (args.Count > 3)
        {
            ctx.SyntaxError();
            return;
        }
        long count = -1;
        if (args.Count == 3 && !TryParsePositive(ctx, args[2], out count))
            return;
        var db = ctx.Db;
        var key = args[1];
        var entry = db.LookupWrite(key);
        if (!entry.Exists)
        {
            if (count < 0)
                ctx.Reply.WriteNullBulk();
            else
                ctx.Reply.WriteSetHeader(0);
            return;
        }
        if (entry.Kind != ValueKind.Set)
        {
            ctx.WrongType();
            return;
        }
        var set = entry.As<SetObject>();
        if (count < 0)
        {
            var member = set.RemoveAt(set.RandomIndex());
            ctx.Reply.WriteBulk(member);
            var p = ctx.Propagate(3);
            p.WriteBulk("SREM"u8);
            p.WriteBulk(key);
            p.WriteBulk(member);
            CollectionHelpers.AfterRemoval(ctx.Notifier, db, key, set, 1, KeyspaceEventClass.Set, "spop"u8);
            return;
        }
        // SPOP with a count answers a set under RESP3 (SRANDMEMBER's count stays an array: it may repeat).
        if (count == 0)
        {
            ctx.Reply.WriteSetHeader(0);
            return;
        }
        if (count >= set.Count)
        {
            int all = (int)set.Count;
            ctx.Reply.WriteSetHeader(all);
            for (int i = 0; i < all; i++)
                ctx.Reply.WriteBulk(set.MemberAt(i));
            var p = ctx.Propagate(2);
            p.WriteBulk("DEL"u8);
            p.WriteBulk(key);
            db.Delete(key);
            ctx.Notify(KeyspaceEventClass.Set, "spop"u8, key);
            ctx.Notify(KeyspaceEventClass.Generic, "del"u8, key);
            return;
        }
        ctx.Reply.WriteSetHeader(count);
        long left = count;
        while (left > 0)
        {
            int batch = (int)Math.Min(left, SremBatch);
            var p = ctx.Propagate(2 + batch);
            p.WriteBulk("SREM"u8);
            p.WriteBulk(key);
            for (int i = 0; i < batch; i++)
            {
                var member = set.RemoveAt(set.RandomIndex());
                ctx.Reply.WriteBulk(member);
                p.WriteBulk(member);
            }
            left -= batch;
        }
        db.Modified(key, count);
        ctx.Notify(KeyspaceEventClass.Set, "spop"u8, key);
    }

    /// <summary>SRANDMEMBER key [count]: distinct members for a positive count, possibly repeated for a negative one.</summary>
    private static void SRandMember(CommandContext ctx, in CommandArgs args)
    {
        if (args.Count > 3)
        {
            ctx.SyntaxError();
            return;
        }
        long count = 0;
        if (args.Count == 3)
        {
            if (!Numbers.TryParseInt64(args[2], out count))
            {
                ctx.NotInteger();
                return;
            }
            if (count == long.MinValue)
            {
                ctx.Reply.WriteError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
                return;
            }
        }
        var entry = ctx.Db.LookupRead(args[1]);
        if (!entry.Exists)
        {
            if (args.Count == 3)
                ctx.Reply.WriteArrayHeader(0);
            else
                ctx.Reply.WriteNullBulk();
            return;
        }
        if (entry.Kind != ValueKind.Set)
        {
            ctx.WrongType();
            return;
        }
        var set = entry.As<SetObject>();
        int size = (int)set.Count;
        if (args.Count == 2)
        {
            ctx.Reply.WriteBulk(set.MemberAt(set.RandomIndex()));
            return;
        }
        if (count < 0)
        {
            ctx.Reply.WriteArrayHeader(-count);
            for (long i = 0; i < -count; i++)
                ctx.Reply.WriteBulk(set.MemberAt(set.RandomIndex()));
            return;
        }
        if (count >= size)
        {
            ctx.Reply.WriteArrayHeader(size);
            for (int i = 0; i < size; i++)
                ctx.Reply.WriteBulk(set.MemberAt(i));
            return;
        }
        ctx.Reply.WriteArrayHeader(count);
        if (count * 3 > size)
        {
            // Many of the members: a partial Fisher-Yates shuffle of their positions.
            var positions = new int[size];
            for (int i = 0; i < size; i++)
                positions[i] = i;
            for (int i = 0; i < count; i++)
            {
                int j = i + Random.Shared.Next(size - i);
                (positions[i], positions[j]) = (positions[j], positions[i]);
                ctx.Reply.WriteBulk(set.MemberAt(positions[i]));
            }
            return;
        }
        var chosen = new HashSet<int>((int)count);
        while (chosen.Count < count)
        {
            int index = set.RandomIndex();
            if (chosen.Add(index))
                ctx.Reply.WriteBulk(set.MemberAt(index));
        }
    }

    private enum SetOp
    {
        Inter,
        Union,
        Diff,
    }

    private static void SInter(CommandContext ctx, in CommandArgs args) => SetOperation(ctx, args, SetOp.Inter, store: false);

    private static void SInterStore(CommandContext ctx, in CommandArgs args) => SetOperation(ctx, args, SetOp.Inter, store: true);

    private static void SUnion(CommandContext ctx, in CommandArgs args) => SetOperation(ctx, args, SetOp.Union, store: false);

    private static void SUnionStore(CommandContext ctx, in CommandArgs args) => SetOperation(ctx, args, SetOp.Union, store: true);

    private static void SDiff(CommandContext ctx, in CommandArgs args) => SetOperation(ctx, args, SetOp.Diff, store: false);

    private static void SDiffStore(CommandContext ctx, in CommandArgs args) => SetOperation(ctx, args, SetOp.Diff, store: true);

    /// <summary>SINTER/SUNION/SDIFF and their STORE forms (the destination is argument 1 of those).</summary>
    private static void SetOperation(CommandContext ctx, in CommandArgs args, SetOp op, bool store)
    {
        var db = ctx.Db;
        int first = store ? 2 : 1;
        var sets = new SetObject?[args.Count - first];
        for (int i = 0; i < sets.Length; i++)
        {
            var entry = db.LookupRead(args[first + i]);
            if (entry.IsNot(ValueKind.Set))
            {
                ctx.WrongType();
                return;
            }
            sets[i] = entry.Exists ? entry.As<SetObject>() : null;
        }

        var result = Compute(sets, op);
        if (!store)
        {
            ctx.Reply.WriteSetHeader(result.Count);
            for (int i = 0; i < result.Count; i++)
                ctx.Reply.WriteBulk(result[i]);
            return;
        }

        var dstKey = args[1];
        var stored = new SetObject();
        foreach (var member in result)
            stored.Add(member);
        db.LookupWrite(dstKey);
        CollectionHelpers.StoreResult(ctx, dstKey, stored, KeyspaceEventClass.Set,
            op switch { SetOp.Inter => "sinterstore"u8, SetOp.Union => "sunionstore"u8, _ => "sdiffstore"u8 });
        ctx.Reply.WriteInteger(stored.Count);
    }

    /// <summary>The members of the operation's result, each once (missing keys are empty sets).</summary>
    private static List<byte[]> Compute(SetObject?[] sets, SetOp op)
    {
        var result = new List<byte[]>();
        switch (op)
        {
            case SetOp.Inter:
            {
                SetObject? smallest = null;
                foreach (var s in sets)
                {
                    if (s is null)
                        return result;
                    if (smallest is null || s.Count < smallest.Count)
                        smallest = s;
                }
                for (int i = 0; i < smallest!.Count; i++)
                {
                    var member = smallest.MemberAt(i);
                    bool everywhere = true;
                    foreach (var s in sets)
                    {
                        if (s != smallest && !s!.Contains(member))
                        {
                            everywhere = false;
                            break;
                        }
                    }
                    if (everywhere)
                        result.Add(member.ToArray());
                }
                break;
            }
            case SetOp.Union:
            {
                var seen = new SetObject();
                foreach (var s in sets)
                {
                    if (s is null)
                        continue;
                    for (int i = 0; i < s.Count; i++)
                    {
                        var member = s.MemberAt(i);
                        if (seen.Add(member))
                            result.Add(member.ToArray());
                    }
                }
                break;
            }
            case SetOp.Diff:
            {
                var head = sets[0];
                if (head is null)
                    return result;
                for (int i = 0; i < head.Count; i++)
                {
                    var member = head.MemberAt(i);
                    bool elsewhere = false;
                    for (int j = 1; j < sets.Length; j++)
                    {
                        if (sets[j] is { } other && (other == head || other.Contains(member)))
                        {
                            elsewhere = true;
                            break;
                        }
                    }
                    if (!elsewhere)
                        result.Add(member.ToArray());
                }
                break;
            }
        }
        return result;
    }

    private static void SScan(CommandContext ctx, in CommandArgs args)
    {
        if (!CollectionHelpers.TryParseCursor(ctx, args[2], out ulong cursor))
            return;
        var entry = ctx.Db.LookupRead(args[1]);
        if (!entry.Exists)
        {
            ctx.Reply.WriteRaw("*2\r\n$1\r\n0\r\n*0\r\n"u8);
            return;
        }
        if (entry.Kind != ValueKind.Set)
        {
            ctx.WrongType();
            return;
        }
        if (!CollectionHelpers.TryParseScanOptions(ctx, args, out int patternIndex, out long count))
            return;
        var set = entry.As<SetObject>();
        var found = new List<byte[]>();
        if (SortedIntegers(ctx, set) is { } integers)
        {
            // An intset is returned whole, in order, in one step, as redis-server does.
            foreach (long value in integers)
                found.Add(System.Text.Encoding.ASCII.GetBytes(value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            cursor = 0;
        }
        else
        {
            long budget = count * 10;
            do
            {
                cursor = set.ScanStep(cursor, found);
            }
            while (cursor != 0 && --budget > 0 && found.Count < count);
        }
        if (patternIndex != 0)
        {
            var pattern = args[patternIndex].ToArray();
            found.RemoveAll(m => !GlobMatcher.IsMatch(pattern, m));
        }
        ctx.Reply.WriteArrayHeader(2);
        ctx.Reply.WriteBulk((long)cursor);
        ctx.Reply.WriteArrayHeader(found.Count);
        foreach (var m in found)
            ctx.Reply.WriteBulk(m);
    }

    /// <summary>
    /// A count that must be ≥ 0 (SPOP's, ZPOPMIN's, LPOP's): Redis's getPositiveLongFromObjectOrReply, whose
    /// one message covers a non-integer as well; false after replying the error.
    /// </summary>
    internal static bool TryParsePositive(CommandContext ctx, ReadOnlySpan<byte> text, out long value)
    {
        if (!Numbers.TryParseInt64(text, out value) || value < 0)
        {
            ctx.Reply.WriteError(ErrorReplies.NotPositive);
            return false;
        }
        return true;
    }
}
