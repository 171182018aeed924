using System.Buffers.Binary;
using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;

namespace Psyncd.Commands;

/// <summary>
/// PFADD, PFCOUNT, PFMERGE: HyperLogLogs stored as strings in redis-server's layout ("HYLL", encoding,
/// cached cardinality, registers), with its hash (MurmurHash64A, seed 0xadc83b19), 16384 six-bit registers
/// and its estimator (Ertl's improved raw estimate), so counts equal redis-server's. Both of Redis's
/// encodings are read (a sparse value may come from a real master's RDB); psyncd writes the dense one.
/// </summary>
internal static class HyperLogLogCommands
{
    private const int P = 14;
    private const int Registers = 1 << P;
    private const int Q = 64 - P;
    private const int HeaderSize = 16;
    private const int DenseSize = HeaderSize + Registers * 6 / 8;
    private const byte Dense = 0;
    private const byte Sparse = 1;
    private const string InvalidHll = "WRONGTYPE Key is not a valid HyperLogLog string value.";
    private const string CorruptHll = "INVALIDOBJ Corrupted HLL object detected";

    public static void Register(CommandTable table)
    {
        table.Add("pfadd", -2, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, PfAdd, 1, 1, 1);
        table.Add("pfcount", -2, CommandFlags.ReadOnly, PfCount, 1, -1, 1);
        table.Add("pfmerge", -2, CommandFlags.Write | CommandFlags.DenyOom, PfMerge, 1, -1, 1);
    }

    private static void PfAdd(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var key = args[1];
        var entry = db.LookupWrite(key);
        if (entry.IsNot(ValueKind.String))
        {
            ctx.WrongType();
            return;
        }
        var registers = ctx.Scratch.Registers(Registers);
        bool created = !entry.Exists;
        if (created)
        {
            Array.Clear(registers);
        }
        else
        {
            var status = Decode(entry.String, registers);
            if (status != 0)
            {
                ctx.Reply.WriteError(status < 0 ? CorruptHll : InvalidHll);
                return;
            }
        }
        bool updated = created;
        for (int i = 2; i < args.Count; i++)
        {
            var (index, count) = PatternOf(args[i]);
            if (count > registers[index])
            {
                registers[index] = (byte)count;
                updated = true;
            }
        }
        if (updated)
        {
            db.SetString(key, Encode(ctx, registers), in entry, keepTtl: true);
            ctx.Reply.WriteInteger(1);
            ctx.Notify(KeyspaceEventClass.String, "pfadd"u8, key);
        }
        else
        {
            ctx.Reply.WriteInteger(0);
        }
    }

    private static void PfCount(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var registers = ctx.Scratch.Registers(Registers);
        Array.Clear(registers);
        var scratch = new byte[Registers];
        for (int i = 1; i < args.Count; i++)
        {
            var entry = db.LookupRead(args[i]);
            if (!entry.Exists)
                continue;
            if (entry.Kind != ValueKind.String)
            {
                ctx.WrongType();
                return;
            }
            var status = Decode(entry.String, scratch);
            if (status != 0)
            {
                ctx.Reply.WriteError(status < 0 ? CorruptHll : InvalidHll);
                return;
            }
            for (int r = 0; r < Registers; r++)
                registers[r] = Math.Max(registers[r], scratch[r]);
        }
        ctx.Reply.WriteInteger(Estimate(registers));
    }

    private static void PfMerge(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var registers = new byte[Registers];
        var scratch = new byte[Registers];
        for (int i = 1; i < args.Count; i++)
        {
            var entry = db.LookupRead(args[i]);
            if (!entry.Exists)
                continue;
            if (entry.Kind != ValueKind.String)
            {
                ctx.WrongType();
                return;
            }
            var status = Decode(entry.String, scratch);
            if (status != 0)
            {
                ctx.Reply.WriteError(status < 0 ? CorruptHll : InvalidHll);
                return;
            }
            for (int r = 0; r < Registers; r++)
                registers[r] = Math.Max(registers[r], scratch[r]);
        }
        var key = args[1];
        var target = db.LookupWrite(key);
        db.SetString(key, Encode(ctx, registers), in target, keepTtl: true);
        ctx.Reply.WriteOk();
        // PFMERGE reports itself as "pfadd", as Redis does.
        ctx.Notify(KeyspaceEventClass.String, "pfadd"u8, key);
    }

    // ------------------------------------------------------------------
    // The sketch
    // ------------------------------------------------------------------

    /// <summary>The register an element falls in, and the length of its hash's "000...1" pattern.</summary>
    private static (int Index, int Count) PatternOf(ReadOnlySpan<byte> element)
    {
        ulong hash = MurmurHash64A(element, 0xadc83b19);
        int index = (int)(hash & (Registers - 1));
        hash >>= P;
        hash |= 1UL << Q;
        return (index, System.Numerics.BitOperations.TrailingZeroCount(hash) + 1);
    }

    private static ulong MurmurHash64A(ReadOnlySpan<byte> data, uint seed)
    {
        const ulong m = 0xc6a4a7935bd1e995;
        const int r = 47;
        ulong h = seed ^ ((ulong)data.Length * m);
        int whole = data.Length & ~7;
        for (int i = 0; i < whole; i += 8)
        {
            ulong k = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
            k *= m;
            k ^= k >> r;
            k *= m;
            h ^= k;
            h *= m;
        }
        var tail = data[whole..];
        if (tail.Length > 0)
        {
            for (int i = tail.Length - 1; i >= 0; i--)
                h ^= (ulong)tail[i] << (8 * i);
            h *= m;
        }
        h ^= h >> r;
        h *= m;
        h ^= h >> r;
        return h;
    }

    /// <summary>Redis's cardinality estimate from the registers (hllCount with the improved estimator).</summary>
    private static long Estimate(byte[] registers)
    {
        Span<int> histogram = stackalloc int[64];
        foreach (byte value in registers)
            histogram[value]++;
        double m = Registers;
        double z = m * Tau((m - histogram[Q + 1]) / m);
        for (int j = Q; j >= 1; j--)
        {
            z += histogram[j];
            z *= 0.5;
        }
        z += m * Sigma(histogram[0] / m);
        const double alphaInf = 0.721347520444481703680;
        return (long)Math.Round(alphaInf * m * m / z, MidpointRounding.AwayFromZero);
    }

    private static double Sigma(double x)
    {
        if (x == 1)
            return double.PositiveInfinity;
        double y = 1, z = x, previous;
        do
        {
            x *= x;
            previous = z;
            z += x * y;
            y += y;
        }
        while (previous != z);
        return z;
    }

    private static double Tau(double x)
    {
        if (x == 0 || x == 1)
            return 0;
        double y = 1, z = 1 - x, previous;
        do
        {
            x = Math.Sqrt(x);
            previous = z;
            y *= 0.5;
            z -= Math.Pow(1 - x, 2) * y;
        }
        while (previous != z);
        return z / 3;
    }

    /// <summary>
    /// Reads a HyperLogLog string into one byte per register: 0 when valid, 1 when the string is not a
    /// HyperLogLog (WRONGTYPE), -1 when a sparse one is corrupt (INVALIDOBJ).
    /// </summary>
    private static int Decode(ReadOnlySpan<byte> value, byte[] registers)
    {
        if (value.Length < HeaderSize || !value.StartsWith("HYLL"u8) || value[4] > Sparse)
            return 1;
        if (value[4] == Dense)
        {
            if (value.Length != DenseSize)
                return 1;
            var dense = value[HeaderSize..];
            for (int i = 0; i < Registers; i++)
            {
                int bit = i * 6, b = bit >> 3, shift = bit & 7;
                int v = dense[b] >> shift;
                if (shift > 2)
                    v |= dense[b + 1] << (8 - shift);
                registers[i] = (byte)(v & 63);
            }
            return 0;
        }
        Array.Clear(registers);
        int index = 0;
        var ops = value[HeaderSize..];
        for (int p = 0; p < ops.Length;)
        {
            byte op = ops[p];
            if ((op & 0xC0) == 0)
            {
                index += (op & 0x3F) + 1;
                p++;
            }
            else if ((op & 0xC0) == 0x40)
            {
                if (p + 1 >= ops.Length)
                    return -1;
                index += (((op & 0x3F) << 8) | ops[p + 1]) + 1;
                p += 2;
            }
            else
            {
                int runLength = (op & 0x03) + 1;
                int v = ((op >> 2) & 0x1F) + 1;
                if (index + runLength > Registers)
                    return -1;
                for (int i = 0; i < runLength; i++)
                    registers[index++] = (byte)v;
                p++;
            }
            if (index > Registers)
                return -1;
        }
        return index == Registers ? 0 : -1;
    }

    /// <summary>The dense encoding of the registers, its cached cardinality marked stale.</summary>
    private static ReadOnlySpan<byte> Encode(CommandContext ctx, byte[] registers)
    {
        var value = ctx.Scratch.Encoded(DenseSize);
        Array.Clear(value);
        "HYLL"u8.CopyTo(value);
        value[4] = Dense;
        value[15] = 0x80;
        var dense = value.AsSpan(HeaderSize);
        for (int i = 0; i < Registers; i++)
        {
            int bit = i * 6, b = bit >> 3, shift = bit & 7;
            int v = registers[i];
            dense[b] |= (byte)(v << shift);
            if (shift > 2)
                dense[b + 1] |= (byte)(v >> (8 - shift));
        }
        return value;
    }
}
