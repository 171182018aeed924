using System.Buffers;
using System.Buffers.Text;
using System.Numerics;
using System.Text;
using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>String commands.</summary>
/// <remarks>
/// Why this file is long: it is one command family (Redis's t_string.c and bitops.c) with five sections that
/// share the SET option parsing, the in-place resize of a string value and the propagation of relative TTLs
/// as absolute ones; split, those helpers would become a shared internal surface for no reader's benefit.
/// The BIT section is the first candidate to leave for a partial file of its own if the family grows.
/// </remarks>
internal static partial class StringCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("get", 2, CommandFlags.ReadOnly | CommandFlags.Fast, Get, 1, 1, 1);
        table.Add("set", -3, CommandFlags.Write | CommandFlags.DenyOom, Set, 1, 1, 1);
        table.Add("setnx", 3, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, SetNx, 1, 1, 1);
        table.Add("setex", 4, CommandFlags.Write | CommandFlags.DenyOom, SetEx, 1, 1, 1);
        table.Add("psetex", 4, CommandFlags.Write | CommandFlags.DenyOom, PSetEx, 1, 1, 1);
        table.Add("mget", -2, CommandFlags.ReadOnly | CommandFlags.Fast, MGet, 1, -1, 1);
        table.Add("mset", -3, CommandFlags.Write | CommandFlags.DenyOom, MSet, 1, -1, 2);
        table.Add("msetnx", -3, CommandFlags.Write | CommandFlags.DenyOom, MSetNx, 1, -1, 2);
        table.Add("getdel", 2, CommandFlags.Write | CommandFlags.Fast, GetDel, 1, 1, 1);
        table.Add("getex", -2, CommandFlags.Write | CommandFlags.Fast, GetEx, 1, 1, 1);
        table.Add("lcs", -3, CommandFlags.ReadOnly, Lcs, 1, 2, 1);
        table.Add("getset", 3, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, GetSet, 1, 1, 1);
        table.Add("append", 3, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Append, 1, 1, 1);
        table.Add("strlen", 2, CommandFlags.ReadOnly | CommandFlags.Fast, StrLen, 1, 1, 1);
        table.Add("incr", 2, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Incr, 1, 1, 1);
        table.Add("decr", 2, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, Decr, 1, 1, 1);
        table.Add("incrby", 3, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, IncrBy, 1, 1, 1);
        table.Add("decrby", 3, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, DecrBy, 1, 1, 1);
        table.Add("incrbyfloat", 3, CommandFlags.Write | CommandFlags.DenyOom | CommandFlags.Fast, IncrByFloat, 1, 1, 1);
        table.Add("getrange", 4, CommandFlags.ReadOnly, GetRange, 1, 1, 1);
        table.Add("substr", 4, CommandFlags.ReadOnly, GetRange, 1, 1, 1);
        table.Add("setrange", 4, CommandFlags.Write | CommandFlags.DenyOom, SetRange, 1, 1, 1);
        table.Add("setbit", 4, CommandFlags.Write | CommandFlags.DenyOom, SetBit, 1, 1, 1);
        table.Add("getbit", 3, CommandFlags.ReadOnly | CommandFlags.Fast, GetBit, 1, 1, 1);
        table.Add("bitcount", -2, CommandFlags.ReadOnly, BitCount, 1, 1, 1);
        table.Add("bitop", -4, CommandFlags.Write | CommandFlags.DenyOom, BitOp, 2, -1, 1);
        table.Add("bitpos", -3, CommandFlags.ReadOnly, BitPos, 1, 1, 1);
        table.Add("bitfield", -2, CommandFlags.Write | CommandFlags.DenyOom, BitField, 1, 1, 1);
        table.Add("bitfield_ro", -2, CommandFlags.ReadOnly | CommandFlags.Fast, BitFieldReadOnly, 1, 1, 1);
    }

    /// <summary>Largest string a command may build (proto-max-bulk-len's default, 512 MB).</summary>
    private const long MaxStringLength = RespLimits.MaxBulkLength;

    private static ReadOnlySpan<byte> StringTooLong => "ERR string exceeds maximum allowed size (proto-max-bulk-len)"u8;

    private static ReadOnlySpan<byte> BitOffsetError => "ERR bit offset is not an integer or out of range"u8;

    private static void Get(CommandContext ctx, in CommandArgs args)
    {
        var entry = ctx.Db.LookupRead(args[1]);
        if (!entry.Exists)
            ctx.Reply.WriteNullBulk();
        else if (entry.Kind != ValueKind.String)
            ctx.WrongType();
        else
            ctx.Reply.WriteBulk(entry.String);
    }

    /// <summary>SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] (Redis 7's options).</summary>
    private static void Set(CommandContext ctx, in CommandArgs args)
    {
        if (!TryParseStringOptions(ctx, args, 3, forSet: true, out var flags, out int expireArg))
            return;
        long expireAt = -1;
        if (expireArg != 0 && !TryParseExpireAt(ctx, args[expireArg], flags, out expireAt))
            return;

        var db = ctx.Db;
        var key = args[1];
        var current = db.LookupWrite(key);
        if ((flags & SetFlags.Get) != 0)
        {
            if (current.IsNot(ValueKind.String))
            {
                ctx.WrongType();
                return;
            }
            // The old value is replied before the write can change the bytes it points to.
            if (current.Exists)
                ctx.Reply.WriteBulk(current.String);
            else
                ctx.Reply.WriteNullBulk();
        }
        if (((flags & SetFlags.Nx) != 0 && current.Exists) || ((flags & SetFlags.Xx) != 0 && !current.Exists))
        {
            if ((flags & SetFlags.Get) == 0)
                ctx.Reply.WriteNullBulk();
            return;
        }
        db.SetString(key, args[2], in current, expireAt, keepTtl: (flags & SetFlags.KeepTtl) != 0);
        if ((flags & SetFlags.Get) == 0)
            ctx.Reply.WriteOk();
        ctx.Notify(KeyspaceEventClass.String, "set"u8, db.Index, key);
        if (expireAt != -1)
            ctx.Notify(KeyspaceEventClass.Generic, "expire"u8, db.Index, key);

        // Relative expiries travel as absolute ones (SET key value PXAT ms), so a replica expires the key
        // at the same instant; GET is not propagated.
        if ((flags & (SetFlags.Ex | SetFlags.Px | SetFlags.ExAt)) != 0)
        {
            var p = ctx.Propagate(5);
            p.WriteBulk(args[0]);
            p.WriteBulk(key);
            p.WriteBulk(args[2]);
            p.WriteBulk("PXAT"u8);
            p.WriteBulk(expireAt);
        }
        else if ((flags & SetFlags.Get) != 0)
        {
            int kept = 0;
            for (int i = 0; i < args.Count; i++)
            {
                if (i < 3 || !Keyword.Is(args[i], "GET"u8))
                    kept++;
            }
            var p = ctx.Propagate(kept);
            for (int i = 0; i < args.Count; i++)
            {
                if (i < 3 || !Keyword.Is(args[i], "GET"u8))
                    p.WriteBulk(args[i]);
            }
        }
    }

    // ------------------------------------------------------------------
    // SETNX, SETEX, PSETEX, GETSET, MGET, MSET, MSETNX
    // ------------------------------------------------------------------

    private static void SetNx(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var current = db.LookupWrite(args[1]);
        if (current.Exists)
        {
            ctx.Reply.WriteInteger(0);
            return;
        }
        db.SetString(args[1], args[2], in current);
        ctx.Reply.WriteInteger(1);
        ctx.Notify(KeyspaceEventClass.String, "set"u8, db.Index, args[1]);
    }

    private static void SetEx(CommandContext ctx, in CommandArgs args) => SetWithTtl(ctx, args, seconds: true);

    private static void PSetEx(CommandContext ctx, in CommandArgs args) => SetWithTtl(ctx, args, seconds: false);

    /// <summary>SETEX key seconds value / PSETEX key ms value, propagated as <c>SET key value PXAT abs</c>.</summary>
    private static void SetWithTtl(CommandContext ctx, in CommandArgs args, bool seconds)
    {
        if (!Numbers.TryParseInt64(args[2], out long amount))
        {
            ctx.NotInteger();
            return;
        }
        if (amount <= 0 || (seconds && amount > long.MaxValue / 1000))
        {
            InvalidExpireTime(ctx);
            return;
        }
        long ms = seconds ? amount * 1000 : amount;
        if (ms > long.MaxValue - ctx.Keyspace.NowMs)
        {
            InvalidExpireTime(ctx);
            return;
        }
        long expireAt = ms + ctx.Keyspace.NowMs;
        var db = ctx.Db;
        var key = args[1];
        var current = db.LookupWrite(key);
        db.SetString(key, args[3], in current, expireAt);
        ctx.Reply.WriteOk();
        ctx.Notify(KeyspaceEventClass.String, "set"u8, db.Index, key);
        ctx.Notify(KeyspaceEventClass.Generic, "expire"u8, db.Index, key);
        var p = ctx.Propagate(5);
        p.WriteBulk("SET"u8);
        p.WriteBulk(key);
        p.WriteBulk(args[3]);
        p.WriteBulk("PXAT"u8);
        p.WriteBulk(expireAt);
    }

    /// <summary><c>ERR invalid expire time in 'name' command</c>, naming the command being run.</summary>
    internal static void InvalidExpireTime(CommandContext ctx) => ctx.Reply.WriteError("ERR invalid expire time in '" + ctx.Command.Name + "' command");

    /// <summary>GETSET key value: the old value, then the key set (time to live cleared); propagated as SET.</summary>
    private static void GetSet(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var key = args[1];
        // Redis reads the old value with a read lookup (a missing key is a key miss), then sets.
        if (!db.LookupRead(key).Exists)
            ctx.Reply.WriteNullBulk();
        var current = db.LookupWrite(key);
        if (current.IsNot(ValueKind.String))
        {
            ctx.WrongType();
            return;
        }
        if (current.Exists)
            ctx.Reply.WriteBulk(current.String);
        db.SetString(key, args[2], in current);
        ctx.Notify(KeyspaceEventClass.String, "set"u8, key);
        var p = ctx.Propagate(3);
        p.WriteBulk("SET"u8);
        p.WriteBulk(key);
        p.WriteBulk(args[2]);
    }

    private static void MGet(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var reply = ctx.Reply;
        reply.WriteArrayHeader(args.Count - 1);
        for (int i = 1; i < args.Count; i++)
        {
            // Each value is written before the next lookup, which may delete an expired key.
            var entry = db.LookupRead(args[i]);
            if (entry.Is(ValueKind.String))
                reply.WriteBulk(entry.String);
            else
                reply.WriteNullBulk();
        }
    }

    private static void MSet(CommandContext ctx, in CommandArgs args)
    {
        if ((args.Count & 1) == 0)
        {
            ctx.WrongArgCount();
            return;
        }
        SetPairs(ctx, args);
        ctx.Reply.WriteOk();
    }

    private static void MSetNx(CommandContext ctx, in CommandArgs args)
    {
        if ((args.Count & 1) == 0)
        {
            ctx.WrongArgCount();
            return;
        }
        var db = ctx.Db;
        for (int i = 1; i < args.Count; i += 2)
        {
            if (db.LookupWrite(args[i]).Exists)
            {
                ctx.Reply.WriteInteger(0);
                return;
            }
        }
        SetPairs(ctx, args);
        ctx.Reply.WriteInteger(1);
    }

    private static void SetPairs(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        // All pairs or none: a full store refuses the command before its first key is written.
        long bytes = 0;
        for (int i = 1; i < args.Count; i += 2)
            bytes += ctx.Keyspace.StringRecordBytes(args[i].Length, args[i + 1].Length);
        ctx.Keyspace.EnsureRoomForRecords(bytes);
        for (int i = 1; i < args.Count; i += 2)
        {
            var current = db.LookupWrite(args[i]);
            db.SetString(args[i], args[i + 1], in current);
            ctx.Notify(KeyspaceEventClass.String, "set"u8, db.Index, args[i]);
        }
    }

    // ------------------------------------------------------------------
    // APPEND, STRLEN, GETRANGE, SETRANGE
    // ------------------------------------------------------------------

    private static void Append(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var key = args[1];
        var tail = args[2];
        var current = db.LookupWrite(key);
        if (current.IsNot(ValueKind.String))
        {
            ctx.WrongType();
            return;
        }
        int oldLength = current.Exists ? current.String.Length : 0;
        if ((long)oldLength + tail.Length > MaxStringLength)
        {
            ctx.Reply.WriteError(StringTooLong);
            return;
        }
        int length = oldLength + tail.Length;
        // Redis stores a new key's value as SET would, and makes an appended-to value "raw".
        var value = db.ResizeString(key, length, in current, current.Exists ? StringEncodingHint.Raw : StringEncodingHint.ByContent);
        tail.CopyTo(value[oldLength..]);
        ctx.Reply.WriteInteger(length);
        ctx.Notify(KeyspaceEventClass.String, "append"u8, key);
    }

    private static void StrLen(CommandContext ctx, in CommandArgs args)
    {
        var entry = ctx.Db.LookupRead(args[1]);
        if (entry.IsNot(ValueKind.String))
            ctx.WrongType();
        else
            ctx.Reply.WriteInteger(entry.Exists ? entry.String.Length : 0);
    }

    /// <summary>GETRANGE (and SUBSTR) key start end: inclusive, negative indexes count from the end.</summary>
    private static void GetRange(CommandContext ctx, in CommandArgs args)
    {
        if (!Numbers.TryParseInt64(args[2], out long start) || !Numbers.TryParseInt64(args[3], out long end))
        {
            ctx.NotInteger();
            return;
        }
        var entry = ctx.Db.LookupRead(args[1]);
        if (entry.IsNot(ValueKind.String))
        {
            ctx.WrongType();
            return;
        }
        var value = entry.Exists ? entry.String : default;
        long length = value.Length;
        if (start < 0 && end < 0 && start > end)
        {
            ctx.Reply.WriteBulk(ReadOnlySpan<byte>.Empty);
            return;
        }
        if (start < 0)
            start = Math.Max(0, length + start);
        if (end < 0)
            end = Math.Max(0, length + end);
        if (end >= length)
            end = length - 1;
        if (start > end || length == 0)
            ctx.Reply.WriteBulk(ReadOnlySpan<byte>.Empty);
        else
            ctx.Reply.WriteBulk(value.Slice((int)start, (int)(end - start + 1)));
    }

    private static void SetRange(CommandContext ctx, in CommandArgs args)
    {
        if (!Numbers.TryParseInt64(args[2], out long offset))
        {
            ctx.NotInteger();
            return;
        }
        if (offset < 0)
        {
            ctx.Reply.WriteError("ERR offset is out of range"u8);
            return;
        }
        var db = ctx.Db;
        var key = args[1];
        var patch = args[3];
        var current = db.LookupWrite(key);
        if (current.IsNot(ValueKind.String))
        {
            ctx.WrongType();
            return;
        }
        int oldLength = current.Exists ? current.String.Length : 0;
        if (patch.IsEmpty)
        {
            // Nothing to write: the length as it is (0 for a missing key, which is not created).
            ctx.Reply.WriteInteger(oldLength);
            return;
        }
        if (offset > MaxStringLength - patch.Length)
        {
            ctx.Reply.WriteError(StringTooLong);
            return;
        }
        int length = Math.Max(oldLength, (int)offset + patch.Length);
        var value = db.ResizeString(key, length, in current, StringEncodingHint.Raw);
        patch.CopyTo(value[(int)offset..]);
        ctx.Reply.WriteInteger(length);
        ctx.Notify(KeyspaceEventClass.String, "setrange"u8, key);
    }

    // ------------------------------------------------------------------
    // INCR, DECR, INCRBY, DECRBY, INCRBYFLOAT
    // ------------------------------------------------------------------

    private static void Incr(CommandContext ctx, in CommandArgs args) => AddToInteger(ctx, args[1], 1);

    private static void Decr(CommandContext ctx, in CommandArgs args) => AddToInteger(ctx, args[1], -1);

    private static void IncrBy(CommandContext ctx, in CommandArgs args)
    {
        if (!Numbers.TryParseInt64(args[2], out long increment))
        {
            ctx.NotInteger();
            return;
        }
        AddToInteger(ctx, args[1], increment);
    }

    private static void DecrBy(CommandContext ctx, in CommandArgs args)
    {
        if (!Numbers.TryParseInt64(args[2], out long decrement))
        {
            ctx.NotInteger();
            return;
        }
        if (decrement == long.MinValue)
        {
            ctx.Reply.WriteError("ERR decrement would overflow"u8);
            return;
        }
        AddToInteger(ctx, args[1], -decrement);
    }

    /// <summary>
    /// The INCR family: the new decimal digits are written over the old ones in the key's record (the
    /// record is resized in place when it has room, which is almost always), keeping the time to live.
    /// </summary>
    private static void AddToInteger(CommandContext ctx, ReadOnlySpan<byte> key, long increment)
    {
        var db = ctx.Db;
        var current = db.LookupWrite(key);
        long value = 0;
        if (current.Exists)
        {
            if (current.Kind != ValueKind.String)
            {
                ctx.WrongType();
                return;
            }
            if (!Numbers.TryParseInt64(current.String, out value))
            {
                ctx.NotInteger();
                return;
            }
        }
        if ((increment < 0 && value < 0 && increment < long.MinValue - value) ||
            (increment > 0 && value > 0 && increment > long.MaxValue - value))
        {
            ctx.Reply.WriteError(ErrorReplies.Overflow);
            return;
        }
        value += increment;
        Span<byte> digits = stackalloc byte[20];
        Utf8Formatter.TryFormat(value, digits, out int length);
        var target = db.ResizeString(key, length, in current);
        digits[..length].CopyTo(target);
        ctx.Reply.WriteInteger(value);
        ctx.Notify(KeyspaceEventClass.String, "incrby"u8, key);
    }

    /// <summary>
    /// INCRBYFLOAT key increment, in long double arithmetic as redis-server does (see <see cref="LongDouble"/>);
    /// propagated as <c>SET key result KEEPTTL</c> so a replica stores the same digits.
    /// </summary>
    private static void IncrByFloat(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        var key = args[1];
        var current = db.LookupWrite(key);
        if (current.IsNot(ValueKind.String))
        {
            ctx.WrongType();
            return;
        }
        var value = LongDouble.Zero;
        if ((current.Exists && !LongDouble.TryParse(current.String, out value)) || !LongDouble.TryParse(args[2], out var increment))
        {
            ctx.Reply.WriteError(ErrorReplies.NotFloat);
            return;
        }
        var sum = LongDouble.Add(value, increment);
        if (sum.IsInfinity)
        {
            ctx.Reply.WriteError(ErrorReplies.IncrementNotFinite);
            return;
        }
        var text = Encoding.ASCII.GetBytes(sum.ToHumanString());
        db.SetString(key, text, in current, keepTtl: true, hint: StringEncodingHint.NotInteger);
        ctx.Reply.WriteBulk(text);
        ctx.Notify(KeyspaceEventClass.String, "incrbyfloat"u8, key);
        var p = ctx.Propagate(4);
        p.WriteBulk("SET"u8);
        p.WriteBulk(key);
        p.WriteBulk(text);
        p.WriteBulk("KEEPTTL"u8);
    }

    // ------------------------------------------------------------------
    // SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP
    // ------------------------------------------------------------------

    /// <summary>BITCOUNT/BITPOS's optional BYTE|BIT at <paramref name="index"/> (BYTE when absent); replies a syntax error otherwise.</summary>
    private static bool TryParseBitUnit(CommandContext ctx, in CommandArgs args, int index, out bool bits)
    {
        bits = false;
        if (args.Count <= index || Keyword.Is(args[index], "BYTE"u8))
            return true;
        if (Keyword.Is(args[index], "BIT"u8))
        {
            bits = true;
            return true;
        }
        ctx.SyntaxError();
        return false;
    }

    /// <summary>A bit offset as getBitOffsetFromArgument takes it: an integer from 0 to below 512 MB of bits' bytes.</summary>
    private static bool TryParseBitOffset(CommandContext ctx, ReadOnlySpan<byte> arg, out long offset)
    {
        if (!Numbers.TryParseInt64(arg, out offset) || offset < 0 || (offset >> 3) >= MaxStringLength)
        {
            ctx.Reply.WriteError(BitOffsetError);
            return false;
        }
        return true;
    }

    private static void SetBit(CommandContext ctx, in CommandArgs args)
    {
        if (!TryParseBitOffset(ctx, args[2], out long offset))
            return;
        if (!Numbers.TryParseInt64(args[3], out long on) || (on & ~1L) != 0)
        {
            ctx.Reply.WriteError("ERR bit is not an integer or out of range"u8);
            return;
        }
        var db = ctx.Db;
        var key = args[1];
        var current = db.LookupWrite(key);
        if (current.IsNot(ValueKind.String))
        {
            ctx.WrongType();
            return;
        }
        int index = (int)(offset >> 3);
        int mask = 1 << (7 - (int)(offset & 7));
        int oldLength = current.Exists ? current.String.Length : 0;
        if (index < oldLength && current.EncodingHint == StringEncodingHint.Raw)
        {
            int old = current.String[index] & mask;
            if ((old != 0) == (on != 0))
            {
                // Nothing changes: no write, nothing to propagate. (Otherwise the value becomes "raw", as in Redis.)
                ctx.Reply.WriteInteger(old != 0 ? 1 : 0);
                return;
            }
        }
        var value = db.ResizeString(key, Math.Max(oldLength, index + 1), in current, StringEncodingHint.Raw);
        bool wasSet = (value[index] & mask) != 0;
        if (on != 0)
            value[index] |= (byte)mask;
        else
            value[index] &= (byte)~mask;
        ctx.Reply.WriteInteger(wasSet ? 1 : 0);
        ctx.Notify(KeyspaceEventClass.String, "setbit"u8, key);
    }

    private static void GetBit(CommandContext ctx, in CommandArgs args)
    {
        if (!TryParseBitOffset(ctx, args[2], out long offset))
            return;
        var entry = ctx.Db.LookupRead(args[1]);
        if (entry.IsNot(ValueKind.String))
        {
            ctx.WrongType();
            return;
        }
        long index = offset >> 3;
        bool set = entry.Exists && index < entry.String.Length && (entry.String[(int)index] & (1 << (7 - (int)(offset & 7)))) != 0;
        ctx.Reply.WriteInteger(set ? 1 : 0);
    }

    /// <summary>
    /// BITCOUNT key [start end [BYTE|BIT]]. As in 7.0, the key is looked up before the range is parsed: a
    /// missing key answers 0 whatever the arguments.
    /// </summary>
    private static void BitCount(CommandContext ctx, in CommandArgs args)
    {
        var entry = ctx.Db.LookupRead(args[1]);
        if (!entry.Exists)
        {
            ctx.Reply.WriteInteger(0);
            return;
        }
        if (entry.Kind != ValueKind.String)
        {
            ctx.WrongType();
            return;
        }
        var value = entry.String;
        long firstBit;
        long lastBit;
        if (args.Count == 4 || args.Count == 5)
        {
            if (!Numbers.TryParseInt64(args[2], out long start) || !Numbers.TryParseInt64(args[3], out long end))
            {
                ctx.NotInteger();
                return;
            }
            // 7.0 answers an inverted negative range before it looks at BYTE|BIT.
            if (start < 0 && end < 0 && start > end)
            {
                ctx.Reply.WriteInteger(0);
                return;
            }
            if (!TryParseBitUnit(ctx, args, 4, out bool bits))
                return;
            long total = bits ? (long)value.Length * 8 : value.Length;
            ClampRange(ref start, ref end, total);
            if (start > end)
            {
                ctx.Reply.WriteInteger(0);
                return;
            }
            firstBit = bits ? start : start * 8;
            lastBit = bits ? end : (end * 8) + 7;
        }
        else if (args.Count == 2)
        {
            firstBit = 0;
            lastBit = ((long)value.Length * 8) - 1;
        }
        else
        {
            ctx.SyntaxError();
            return;
        }
        ctx.Reply.WriteInteger(firstBit > lastBit ? 0 : CountBits(value, firstBit, lastBit));
    }

    /// <summary>Redis's conversion of a start/end pair over <paramref name="total"/> units: negatives from the end, then clamped.</summary>
    private static void ClampRange(ref long start, ref long end, long total)
    {
        if (start < 0)
            start = total + start;
        if (end < 0)
            end = total + end;
        if (start < 0)
            start = 0;
        if (end < 0)
            end = 0;
        if (end >= total)
            end = total - 1;
    }

    /// <summary>Set bits among bits <paramref name="firstBit"/>..<paramref name="lastBit"/> (inclusive, big-endian within bytes).</summary>
    private static long CountBits(ReadOnlySpan<byte> value, long firstBit, long lastBit)
    {
        int firstByte = (int)(firstBit >> 3);
        int lastByte = (int)(lastBit >> 3);
        int headMask = 0xFF >> (int)(firstBit & 7);
        int tailMask = (0xFF << (7 - (int)(lastBit & 7))) & 0xFF;
        if (firstByte == lastByte)
            return BitOperations.PopCount((uint)(value[firstByte] & headMask & tailMask));
        long count = BitOperations.PopCount((uint)(value[firstByte] & headMask)) + BitOperations.PopCount((uint)(value[lastByte] & tailMask));
        var middle = value[(firstByte + 1)..lastByte];
        int i = 0;
        for (; i + 8 <= middle.Length; i += 8)
            count += BitOperations.PopCount(System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(middle[i..]));
        for (; i < middle.Length; i++)
            count += BitOperations.PopCount((uint)middle[i]);
        return count;
    }

    /// <summary>BITPOS key bit [start [end [BYTE|BIT]]]: the first bit set to (or clear of) <c>bit</c> in the range.</summary>
    private static void BitPos(CommandContext ctx, in CommandArgs args)
    {
        if (!Numbers.TryParseInt64(args[2], out long bit))
        {
            ctx.NotInteger();
            return;
        }
        if (bit != 0 && bit != 1)
        {
            ctx.Reply.WriteError("ERR The bit argument must be 1 or 0."u8);
            return;
        }
        var entry = ctx.Db.LookupRead(args[1]);
        if (!entry.Exists)
        {
            // A missing key is an endless run of zeros.
            ctx.Reply.WriteInteger(bit == 1 ? -1 : 0);
            return;
        }
        if (entry.Kind != ValueKind.String)
        {
            ctx.WrongType();
            return;
        }
        var value = entry.String;
        bool endGiven = false;
        long firstBit;
        long lastBit;
        if (args.Count >= 4 && args.Count <= 6)
        {
            if (!Numbers.TryParseInt64(args[3], out long start))
            {
                ctx.NotInteger();
                return;
            }
            if (!TryParseBitUnit(ctx, args, 5, out bool bits))
                return;
            long total = bits ? (long)value.Length * 8 : value.Length;
            long end;
            if (args.Count >= 5)
            {
                if (!Numbers.TryParseInt64(args[4], out end))
                {
                    ctx.NotInteger();
                    return;
                }
                endGiven = true;
            }
            else
            {
                end = total - 1;
            }
            ClampRange(ref start, ref end, total);
            if (start > end)
            {
                ctx.Reply.WriteInteger(-1);
                return;
            }
            firstBit = bits ? start : start * 8;
            lastBit = bits ? end : (end * 8) + 7;
        }
        else if (args.Count == 3)
        {
            firstBit = 0;
            lastBit = ((long)value.Length * 8) - 1;
            if (lastBit < 0)
            {
                ctx.Reply.WriteInteger(-1);
                return;
            }
        }
        else
        {
            ctx.SyntaxError();
            return;
        }
        long found = FindBit(value, firstBit, lastBit, bit == 1);
        if (found < 0 && bit == 0 && !endGiven)
        {
            // Looking for a clear bit with no end given: the string is taken as padded with zeros.
            found = ((lastBit >> 3) + 1) * 8;
        }
        ctx.Reply.WriteInteger(found);
    }

    /// <summary>The first bit equal to <paramref name="set"/> among bits firstBit..lastBit, or -1.</summary>
    private static long FindBit(ReadOnlySpan<byte> value, long firstBit, long lastBit, bool set)
    {
        long b = firstBit;
        // Bit by bit up to a byte boundary, whole bytes in between, bit by bit at the end.
        while (b <= lastBit && (b & 7) != 0)
        {
            if (BitAt(value, b) == set)
                return b;
            b++;
        }
        byte skip = set ? (byte)0 : (byte)0xFF;
        while (b + 7 <= lastBit)
        {
            byte v = value[(int)(b >> 3)];
            if (v != skip)
                return b + (set ? BitOperations.LeadingZeroCount((uint)v) - 24 : BitOperations.LeadingZeroCount((uint)(byte)~v) - 24);
            b += 8;
        }
        while (b <= lastBit)
        {
            if (BitAt(value, b) == set)
                return b;
            b++;
        }
        return -1;
    }

    private static bool BitAt(ReadOnlySpan<byte> value, long bit) => (value[(int)(bit >> 3)] & (0x80 >> (int)(bit & 7))) != 0;

    private enum BitOperation
    {
        And,
        Or,
        Xor,
        Not,
    }

    /// <summary>BITOP AND|OR|XOR|NOT destkey key [key ...]: missing keys are empty strings; an empty result deletes destkey.</summary>
    private static void BitOp(CommandContext ctx, in CommandArgs args)
    {
        BitOperation op;
        var name = args[1];
        if (Keyword.Is(name, "AND"u8))
            op = BitOperation.And;
        else if (Keyword.Is(name, "OR"u8))
            op = BitOperation.Or;
        else if (Keyword.Is(name, "XOR"u8))
            op = BitOperation.Xor;
        else if (Keyword.Is(name, "NOT"u8))
            op = BitOperation.Not;
        else
        {
            ctx.SyntaxError();
            return;
        }
        if (op == BitOperation.Not && args.Count != 4)
        {
            ctx.Reply.WriteError("ERR BITOP NOT must be called with a single source key."u8);
            return;
        }

        // Sources are copied first: looking keys up may delete expired ones, which invalidates entries.
        var db = ctx.Db;
        int sourceCount = args.Count - 3;
        var sources = new byte[sourceCount][];
        int maxLength = 0;
        for (int i = 0; i < sourceCount; i++)
        {
            var entry = db.LookupRead(args[3 + i]);
            if (entry.IsNot(ValueKind.String))
            {
                ctx.WrongType();
                return;
            }
            sources[i] = entry.Exists ? entry.String.ToArray() : Array.Empty<byte>();
            maxLength = Math.Max(maxLength, sources[i].Length);
        }

        var destination = args[2];
        if (maxLength == 0)
        {
            if (db.Delete(destination))
                ctx.Notify(KeyspaceEventClass.Generic, "del"u8, destination);
            ctx.Reply.WriteInteger(0);
            return;
        }
        byte[] rented = ArrayPool<byte>.Shared.Rent(maxLength);
        try
        {
            var result = rented.AsSpan(0, maxLength);
            var first = sources[0];
            for (int i = 0; i < maxLength; i++)
                result[i] = i < first.Length ? first[i] : (byte)0;
            if (op == BitOperation.Not)
            {
                for (int i = 0; i < maxLength; i++)
                    result[i] = (byte)~result[i];
            }
            for (int s = 1; s < sourceCount; s++)
            {
                var source = sources[s];
                for (int i = 0; i < maxLength; i++)
                {
                    byte v = i < source.Length ? source[i] : (byte)0;
                    result[i] = op switch
                    {
                        BitOperation.And => (byte)(result[i] & v),
                        BitOperation.Or => (byte)(result[i] | v),
                        _ => (byte)(result[i] ^ v),
                    };
                }
            }
            var current = db.LookupWrite(destination);
            db.SetString(destination, result, in current, hint: StringEncodingHint.Raw);
            ctx.Notify(KeyspaceEventClass.String, "set"u8, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
        ctx.Reply.WriteInteger(maxLength);
    }
}
