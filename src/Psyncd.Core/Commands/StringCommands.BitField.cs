using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>BITFIELD and BITFIELD_RO (Redis 3.2 and 6.0), with redis-server 7.0.15's parsing order, overflow rules and replies.</summary>
internal static partial class StringCommands
{
    private enum BitFieldOp : byte
    {
        Get,
        Set,
        IncrBy,
    }

    private enum Overflow : byte
    {
        Wrap,
        Sat,
        Fail,
    }

    private readonly record struct BitFieldStep(BitFieldOp Op, long Offset, int Bits, bool Signed, long Value, Overflow Overflow);

    private static void BitField(CommandContext ctx, in CommandArgs args) => BitFieldGeneric(ctx, args, readOnly: false);

    private static void BitFieldReadOnly(CommandContext ctx, in CommandArgs args) => BitFieldGeneric(ctx, args, readOnly: true);

    /// <summary>
    /// Every subcommand is parsed before anything runs (an error leaves the string untouched). With a write
    /// among them the string is first grown to hold the highest field written, as Redis does, even when that
    /// write then fails under OVERFLOW FAIL.
    /// </summary>
    private static void BitFieldGeneric(CommandContext ctx, in CommandArgs args, bool readOnly)
    {
        var steps = new List<BitFieldStep>();
        var overflow = Overflow.Wrap;
        bool writes = false;
        long highestBit = 0;
        for (int j = 2; j < args.Count; j++)
        {
            int remaining = args.Count - j - 1;
            var sub = args[j];
            BitFieldOp op;
            if (Keyword.Is(sub, "GET"u8) && remaining >= 2)
                op = BitFieldOp.Get;
            else if (Keyword.Is(sub, "SET"u8) && remaining >= 3)
                op = BitFieldOp.Set;
            else if (Keyword.Is(sub, "INCRBY"u8) && remaining >= 3)
                op = BitFieldOp.IncrBy;
            else if (Keyword.Is(sub, "OVERFLOW"u8) && remaining >= 1)
            {
                var kind = args[++j];
                if (Keyword.Is(kind, "WRAP"u8))
                    overflow = Overflow.Wrap;
                else if (Keyword.Is(kind, "SAT"u8))
                    overflow = Overflow.Sat;
                else if (Keyword.Is(kind, "FAIL"u8))
                    overflow = Overflow.Fail;
                else
                {
                    ctx.Reply.WriteError("ERR Invalid OVERFLOW type specified"u8);
                    return;
                }
                continue;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
            if (!TryParseBitFieldType(args[j + 1], out bool signed, out int bits))
            {
                ctx.Reply.WriteError("ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."u8);
                return;
            }
            if (!TryParseBitFieldOffset(args[j + 2], bits, out long offset))
            {
                ctx.Reply.WriteError(BitOffsetError);
                return;
            }
            long value = 0;
            if (op != BitFieldOp.Get)
            {
                if (!Numbers.TryParseInt64(args[j + 3], out value))
                {
                    ctx.NotInteger();
                    return;
                }
                writes = true;
                highestBit = Math.Max(highestBit, offset + bits - 1);
            }
            steps.Add(new BitFieldStep(op, offset, bits, signed, value, overflow));
            j += op == BitFieldOp.Get ? 2 : 3;
        }

        var db = ctx.Db;
        var key = args[1];
        var reply = ctx.Reply;
        if (!writes)
        {
            var entry = db.LookupRead(key);
            if (entry.IsNot(ValueKind.String))
            {
                ctx.WrongType();
                return;
            }
            var text = entry.Exists ? entry.String : default;
            reply.WriteArrayHeader(steps.Count);
            foreach (var step in steps)
                reply.WriteInteger(step.Signed ? GetSigned(text, step.Offset, step.Bits) : (long)GetUnsigned(text, step.Offset, step.Bits));
            return;
        }
        if (readOnly)
        {
            ctx.Reply.WriteError("ERR BITFIELD_RO only supports the GET subcommand"u8);
            return;
        }
        var current = db.LookupWrite(key);
        if (current.IsNot(ValueKind.String))
        {
            ctx.WrongType();
            return;
        }
        int oldLength = current.Exists ? current.String.Length : 0;
        var bytes = db.ResizeString(key, (int)Math.Max(oldLength, (highestBit >> 3) + 1), in current, StringEncodingHint.Raw);
        reply.WriteArrayHeader(steps.Count);
        long changes = 0;
        foreach (var step in steps)
        {
            if (step.Op == BitFieldOp.Get)
            {
                reply.WriteInteger(step.Signed ? GetSigned(bytes, step.Offset, step.Bits) : (long)GetUnsigned(bytes, step.Offset, step.Bits));
                continue;
            }
            long old = step.Signed ? GetSigned(bytes, step.Offset, step.Bits) : (long)GetUnsigned(bytes, step.Offset, step.Bits);
            long stored, replied;
            int overflowed;
            if (step.Op == BitFieldOp.Set)
            {
                overflowed = step.Signed
                    ? SignedOverflow(step.Value, 0, step.Bits, step.Overflow, out stored)
                    : UnsignedOverflow((ulong)step.Value, 0, step.Bits, step.Overflow, out stored);
                if (overflowed == 0)
                    stored = step.Value;
                replied = old;
            }
            else
            {
                overflowed = step.Signed
                    ? SignedOverflow(old, step.Value, step.Bits, step.Overflow, out stored)
                    : UnsignedOverflow((ulong)old, step.Value, step.Bits, step.Overflow, out stored);
                if (overflowed == 0)
                    stored = unchecked(old + step.Value);
                replied = stored;
            }
            if (overflowed != 0 && step.Overflow == Overflow.Fail)
            {
                reply.WriteNullBulk();
                continue;
            }
            SetBits(bytes, step.Offset, step.Bits, (ulong)stored);
            reply.WriteInteger(replied);
            changes++;
        }
        // The resize above counted as the change (so the request is propagated); Redis notifies only real writes.
        if (changes > 0)
            ctx.Notify(KeyspaceEventClass.String, "setbit"u8, key);
    }

    /// <summary>i1..i64 or u1..u63.</summary>
    private static bool TryParseBitFieldType(ReadOnlySpan<byte> text, out bool signed, out int bits)
    {
        signed = false;
        bits = 0;
        if (text.Length < 2 || (text[0] | 0x20) is not ((byte)'i' or (byte)'u'))
            return false;
        signed = (text[0] | 0x20) == 'i';
        if (!Numbers.TryParseInt64(text[1..], out long n))
            return false;
        bits = (int)Math.Clamp(n, 0, 100);
        return n >= 1 && (signed ? n <= 64 : n <= 63);
    }

    /// <summary>An offset in bits, or "#n" for n fields of <paramref name="bits"/>; the byte it reaches must be below 512 MB.</summary>
    private static bool TryParseBitFieldOffset(ReadOnlySpan<byte> text, int bits, out long offset)
    {
        bool byField = text.Length > 0 && text[0] == '#';
        if (!Numbers.TryParseInt64(byField ? text[1..] : text, out offset))
            return false;
        if (byField)
        {
            if (offset > long.MaxValue / bits || offset < long.MinValue / bits)
                return false;
            offset *= bits;
        }
        return offset >= 0 && (offset >> 3) < MaxStringLength;
    }

    private static ulong GetUnsigned(ReadOnlySpan<byte> bytes, long offset, int bits)
    {
        ulong value = 0;
        for (int i = 0; i < bits; i++)
        {
            long bit = offset + i;
            long index = bit >> 3;
            int on = index < bytes.Length ? (bytes[(int)index] >> (7 - (int)(bit & 7))) & 1 : 0;
            value = (value << 1) | (uint)on;
        }
        return value;
    }

    private static long GetSigned(ReadOnlySpan<byte> bytes, long offset, int bits)
    {
        ulong value = GetUnsigned(bytes, offset, bits);
        if (bits < 64 && (value & (1UL << (bits - 1))) != 0)
            value |= ulong.MaxValue << bits;
        return (long)value;
    }

    private static void SetBits(Span<byte> bytes, long offset, int bits, ulong value)
    {
        for (int i = 0; i < bits; i++)
        {
            bool on = ((value >> (bits - 1 - i)) & 1) != 0;
            long bit = offset + i;
            int index = (int)(bit >> 3);
            byte mask = (byte)(1 << (7 - (int)(bit & 7)));
            if (on)
                bytes[index] |= mask;
            else
                bytes[index] &= (byte)~mask;
        }
    }

    /// <summary>
    /// Whether <paramref name="value"/> + <paramref name="increment"/> leaves the unsigned field's range: 1 over,
    /// -1 under, 0 within; <paramref name="limit"/> is then what WRAP or SAT stores.
    /// </summary>
    private static int UnsignedOverflow(ulong value, long increment, int bits, Overflow overflow, out long limit)
    {
        ulong max = (1UL << bits) - 1;
        long maxIncrement = unchecked((long)(max - value));
        long minIncrement = unchecked(-(long)value);
        limit = 0;
        if (value > max || (increment > 0 && increment > maxIncrement))
        {
            limit = overflow == Overflow.Sat ? (long)max : (long)(unchecked(value + (ulong)increment) & max);
            return 1;
        }
        if (increment < 0 && increment < minIncrement)
        {
            limit = overflow == Overflow.Sat ? 0 : (long)(unchecked(value + (ulong)increment) & max);
            return -1;
        }
        return 0;
    }

    /// <summary>The signed counterpart of <see cref="UnsignedOverflow"/>; WRAP keeps the low bits, sign-extended.</summary>
    private static int SignedOverflow(long value, long increment, int bits, Overflow overflow, out long limit)
    {
        long max = bits == 64 ? long.MaxValue : (1L << (bits - 1)) - 1;
        long min = -max - 1;
        long maxIncrement = unchecked(max - value);
        long minIncrement = unchecked(min - value);
        limit = 0;
        int result = 0;
        if (value > max || (bits != 64 && increment > maxIncrement) || (value >= 0 && increment > 0 && increment > maxIncrement))
            result = 1;
        else if (value < min || (bits != 64 && increment < minIncrement) || (value < 0 && increment < 0 && increment < minIncrement))
            result = -1;
        if (result == 0)
            return 0;
        if (overflow == Overflow.Sat)
        {
            limit = result > 0 ? max : min;
            return result;
        }
        ulong c = unchecked((ulong)value + (ulong)increment);
        if (bits < 64)
        {
            ulong mask = ulong.MaxValue << bits;
            if ((c & (1UL << (bits - 1))) != 0)
                c |= mask;
            else
                c &= ~mask;
        }
        limit = (long)c;
        return result;
    }
}
