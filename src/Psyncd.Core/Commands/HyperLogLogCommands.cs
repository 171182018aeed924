using System.Text;
using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>
/// PFADD, PFCOUNT, PFMERGE, PFDEBUG and PFSELFTEST over HyperLogLog strings kept byte for byte as
/// redis-server 7.0 keeps them (<see cref="HyperLogLog"/>): sparse while small, dense past
/// <c>hll-sparse-max-bytes</c> or a register over 32, the cached cardinality written by PFCOUNT.
/// </summary>
internal static class HyperLogLogCommands
{
    private const string InvalidHll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
    private const string CorruptHll = "INVALIDOBJ Corrupted HLL object detected";

    public static void Register(CommandTable table)
    {
        table.Add("pfadd", -2, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, PfAdd, 1, 1, 1);
        table.Add("pfcount", -2, CommandFlags.ReadOnly, PfCount, 1, -1, 1);
        table.Add("pfmerge", -2, CommandFlags.Write | CommandFlags.DenyOom, PfMerge, 1, -1, 1);
        table.Add("pfdebug", 3, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Admin, PfDebug, 2, 2, 1);
        table.Add("pfselftest", 1, CommandFlags.Admin, PfSelfTest);
    }

    /// <summary>
    /// Checks a value found at a HyperLogLog command's key (isHLLObjectOrReply): false, with the error
    /// written, when it is not a string or not a HyperLogLog.
    /// </summary>
    private static bool CheckHll(CommandContext ctx, in Entry entry)
    {
        if (entry.Kind != ValueKind.String)
        {
            ctx.WrongType();
            return false;
        }
        if (!HyperLogLog.IsValid(entry.String))
        {
            ctx.Reply.WriteError(InvalidHll);
            return false;
        }
        return true;
    }

    private static void PfAdd(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var key = args[1];
        var entry = db.LookupWrite(key);
        if (entry.Exists && !CheckHll(ctx, entry))
            return;
        if (entry.Exists)
            db.MarkStringRaw(entry);
        long dirtyBefore = ctx.Keyspace.Dirty;
        int updated;
        if (entry.Exists && !HyperLogLog.IsSparse(entry.String))
        {
            updated = AddDense(ctx, args, key, entry);
        }
        else
        {
            updated = AddSparse(ctx, args, key, entry);
            if (updated < 0)
                return;
        }
        if (updated > 0)
        {
            // Redis counts one change per register raised (and one for a new key).
            ctx.Keyspace.Dirty = dirtyBefore + updated;
            ctx.Reply.WriteInteger(1);
            ctx.Notify(KeyspaceEventClass.String, "pfadd"u8, key);
        }
        else
        {
            ctx.Reply.WriteInteger(0);
        }
    }

    /// <summary>
    /// PFADD to a dense HyperLogLog, in place: the registers are read first, and the value is rewritten only
    /// from the first element that raises one (most PFADDs to a large HyperLogLog change nothing).
    /// </summary>
    private static int AddDense(CommandContext ctx, in CommandArgs args, ReadOnlySpan<byte> key, in Entry entry)
    {
        var registers = entry.String[HyperLogLog.HeaderSize..];
        int i = 2;
        for (; i < args.Count; i++)
        {
            var (index, count) = HyperLogLog.PatternOf(args[i]);
            if (count > HyperLogLog.GetDense(registers, index))
                break;
        }
        if (i == args.Count)
            return 0;
        var value = ctx.Db.ResizeString(key, HyperLogLog.DenseSize, in entry, StringEncodingHint.Raw);
        var writable = value[HyperLogLog.HeaderSize..];
        int updated = 0;
        for (; i < args.Count; i++)
        {
            var (index, count) = HyperLogLog.PatternOf(args[i]);
            if (HyperLogLog.RaiseDense(writable, index, count))
                updated++;
        }
        HyperLogLog.InvalidateCache(value);
        return updated;
    }

    /// <summary>PFADD to a sparse (or new) HyperLogLog, edited in the reused editor; -1 when the reply is an error.</summary>
    private static int AddSparse(CommandContext ctx, in CommandArgs args, ReadOnlySpan<byte> key, in Entry entry)
    {
        var hll = ctx.Scratch.HyperLogLogEditor;
        int updated = 0;
        if (entry.Exists)
        {
            hll.Load(entry.String);
        }
        else
        {
            hll.LoadEmpty();
            updated = 1;
        }
        long limit = ctx.Options.HllSparseMaxBytes;
        for (int i = 2; i < args.Count; i++)
        {
            int result = hll.Add(args[i], limit);
            if (result < 0)
            {
                // Redis edits the stored value in place, so the registers raised before the corrupt part
                // stay (the cached cardinality untouched), unpropagated and uncounted.
                if (updated > 0)
                {
                    long dirty = ctx.Keyspace.Dirty;
                    ctx.Db.SetString(key, hll.Value, in entry, keepTtl: true, hint: StringEncodingHint.Raw);
                    ctx.Keyspace.Dirty = dirty;
                    ctx.PreventPropagation();
                }
                ctx.Reply.WriteError(CorruptHll);
                return -1;
            }
            updated += result;
        }
        if (updated > 0)
        {
            hll.InvalidateCache();
            ctx.Db.SetString(key, hll.Value, in entry, keepTtl: true, hint: StringEncodingHint.Raw);
        }
        return updated;
    }

    private static void PfCount(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        Span<int> histogram = stackalloc int[HyperLogLog.Q + 2];
        if (args.Count > 2)
        {
            // The union's cardinality, from the registers' maxima; nothing is cached.
            var registers = ctx.Scratch.Registers(HyperLogLog.Registers);
            Array.Clear(registers);
            if (!MergeSources(ctx, args, registers, out _))
                return;
            HyperLogLog.HistogramOfBytes(registers, histogram);
            ctx.Reply.WriteInteger(HyperLogLog.Estimate(histogram));
            return;
        }
        var key = args[1];
        var entry = db.LookupRead(key);
        if (!entry.Exists)
        {
            ctx.Reply.WriteInteger(0);
            return;
        }
        if (!CheckHll(ctx, entry))
            return;
        db.MarkStringRaw(entry);
        if (HyperLogLog.HasValidCache(entry.String))
        {
            ctx.Reply.WriteInteger(HyperLogLog.CachedCardinality(entry.String));
            return;
        }
        if (!HyperLogLog.Histogram(entry.String, histogram))
        {
            ctx.Reply.WriteError(CorruptHll);
            return;
        }
        long cardinality = HyperLogLog.Estimate(histogram);
        // Redis writes the count into the header: a change of the value, propagated as PFCOUNT itself
        // (the dispatcher sees the write), so that replicas hold the same bytes.
        var target = db.LookupWrite(key);
        var value = db.ResizeString(key, target.String.Length, in target, StringEncodingHint.Raw);
        HyperLogLog.WriteCachedCardinality(value, cardinality);
        ctx.Reply.WriteInteger(cardinality);
    }

    /// <summary>
    /// Raises <paramref name="registers"/> to the registers of every HyperLogLog named from args[1] on
    /// (missing keys count as empty); false, with the error written, at the first that is not one or is corrupt.
    /// </summary>
    private static bool MergeSources(CommandContext ctx, in CommandArgs args, byte[] registers, out bool anyDense)
    {
        anyDense = false;
        for (int i = 1; i < args.Count; i++)
        {
            var entry = ctx.Db.LookupRead(args[i]);
            if (!entry.Exists)
                continue;
            if (!CheckHll(ctx, entry))
                return false;
            if (!HyperLogLog.IsSparse(entry.String))
                anyDense = true;
            if (!HyperLogLog.MergeInto(entry.String, registers))
            {
                ctx.Reply.WriteError(CorruptHll);
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// PFMERGE dest src...: the maxima of every HyperLogLog named (dest included) written into dest register
    /// by register, as Redis does: dest (created sparse when missing) is made dense first when any input is
    /// dense, otherwise each raised register is a sparse edit, which may promote it.
    /// </summary>
    private static void PfMerge(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var registers = ctx.Scratch.Registers(HyperLogLog.Registers);
        Array.Clear(registers);
        if (!MergeSources(ctx, args, registers, out bool anyDense))
            return;
        var key = args[1];
        var target = db.LookupWrite(key);
        var hll = ctx.Scratch.HyperLogLogEditor;
        if (target.Exists)
            hll.Load(target.String);
        else
            hll.LoadEmpty();
        if (anyDense && !hll.ToDense())
        {
            ctx.Reply.WriteError(CorruptHll);
            return;
        }
        long limit = ctx.Options.HllSparseMaxBytes;
        for (int i = 0; i < HyperLogLog.Registers; i++)
        {
            if (registers[i] != 0)
                hll.Set(i, registers[i], limit);
        }
        hll.InvalidateCache();
        db.SetString(key, hll.Value, in target, keepTtl: true, hint: StringEncodingHint.Raw);
        ctx.Reply.WriteOk();
        // PFMERGE reports itself as "pfadd", as Redis does.
        ctx.Notify(KeyspaceEventClass.String, "pfadd"u8, key);
    }

    /// <summary>PFDEBUG GETREG|DECODE|ENCODING|TODENSE key: redis-server 7.0's view into a HyperLogLog.</summary>
    private static void PfDebug(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var sub = args[1];
        var key = args[2];
        var entry = db.LookupWrite(key);
        if (!entry.Exists)
        {
            ctx.Reply.WriteError("ERR The specified key does not exist");
            return;
        }
        if (!CheckHll(ctx, entry))
            return;
        db.MarkStringRaw(entry);
        bool sparse = HyperLogLog.IsSparse(entry.String);
        if (Keyword.Is(sub, "GETREG"u8))
        {
            // Redis converts a sparse HyperLogLog to read its registers, and keeps (and propagates) the dense one.
            ReadOnlySpan<byte> value = entry.String;
            if (sparse)
            {
                if (!ToDense(ctx, key, entry))
                    return;
                value = ctx.Scratch.HyperLogLogEditor.Value;
            }
            var registers = value[HyperLogLog.HeaderSize..];
            ctx.Reply.WriteArrayHeader(HyperLogLog.Registers);
            for (int i = 0; i < HyperLogLog.Registers; i++)
                ctx.Reply.WriteInteger(HyperLogLog.GetDense(registers, i));
        }
        else if (Keyword.Is(sub, "DECODE"u8))
        {
            if (!sparse)
                ctx.Reply.WriteError("ERR HLL encoding is not sparse");
            else
                ctx.Reply.WriteBulk(Encoding.ASCII.GetBytes(HyperLogLog.DescribeSparse(entry.String)));
        }
        else if (Keyword.Is(sub, "ENCODING"u8))
        {
            ctx.Reply.WriteSimpleString(sparse ? "sparse" : "dense");
        }
        else if (Keyword.Is(sub, "TODENSE"u8))
        {
            if (sparse && !ToDense(ctx, key, entry))
                return;
            ctx.Reply.WriteInteger(sparse ? 1 : 0);
        }
        else
        {
            // addReplyErrorFormat's "%s": up to a NUL byte, line breaks made spaces.
            string name = ErrorReplies.CText(sub, int.MaxValue).Replace('\r', ' ').Replace('\n', ' ');
            ctx.Reply.WriteError("ERR Unknown PFDEBUG subcommand '" + name + "'");
        }
    }

    /// <summary>Stores the dense form of the sparse HyperLogLog at key (left in the editor); false, with the error written, when it is corrupt.</summary>
    private static bool ToDense(CommandContext ctx, ReadOnlySpan<byte> key, in Entry entry)
    {
        var hll = ctx.Scratch.HyperLogLogEditor;
        hll.Load(entry.String);
        if (!hll.ToDense())
        {
            ctx.Reply.WriteError(CorruptHll);
            return false;
        }
        ctx.Db.SetString(key, hll.Value, in entry, keepTtl: true, hint: StringEncodingHint.Raw);
        return true;
    }

    /// <summary>PFSELFTEST: runs <see cref="HyperLogLog.SelfTest"/> over psyncd's own HyperLogLog code.</summary>
    private static void PfSelfTest(CommandContext ctx, in CommandArgs args)
    {
        string? failure = HyperLogLog.SelfTest();
        if (failure is null)
            ctx.Reply.WriteOk();
        else
            ctx.Reply.WriteError("TESTFAILED " + failure);
    }
}
