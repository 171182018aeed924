using System.Numerics;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Admin;

/// <summary>
/// MEMORY USAGE's estimate: the bytes redis-server 7.0 (with jemalloc) would take for the same key and value,
/// computed from the data as Redis lays it out (robj headers, sds strings, listpacks, quicklist nodes, dict
/// buckets and entries, skiplist nodes), each allocation rounded up to jemalloc's size class. psyncd's own
/// layout (FASTER records, managed objects) costs differently; what tools such as <c>redis-cli --memkeys</c>
/// compare between keys is the data's weight, so psyncd reports Redis's. docs/memory.md has the measured
/// ratios to redis-server's answers.
/// </summary>
/// <remarks>
/// As in Redis, encodings held in one block (listpacks, intsets) are measured whole, and the others are
/// sampled: the average of the first <c>samples</c> elements (all of them for 0) times their number.
/// </remarks>
internal static class RedisMemoryModel
{
    // Sizes of Redis 7.0's structures on 64-bit Linux.
    private const long RobjBytes = 16;
    private const long DictEntryBytes = 24;
    private const long DictBytes = 48;
    private const long QuicklistBytes = 48;
    private const long QuicklistNodeBytes = 32;
    private const long ZsetBytes = 16;
    private const long ZskiplistBytes = 32;

    /// <summary>A listpack node of a quicklist holds at most this much (list-max-listpack-size -2: 8 KB).</summary>
    private const long QuicklistNodeLimit = 8192;

    /// <summary>The bytes of <paramref name="key"/> and its value, as MEMORY USAGE counts them (value, key's sds, its dict entry).</summary>
    public static long Usage(ReadOnlySpan<byte> key, in Entry entry, EncodingLimits limits, long samples)
    {
        long value = entry.Kind == ValueKind.String ? StringValue(entry) : ObjectValue(entry.Object!, limits, samples);
        return value + Sds(key.Length) + DictEntryBytes;
    }

    /// <summary>jemalloc's size class for an allocation of <paramref name="bytes"/>: 8, 16, then multiples of 16 to 128, then four classes per doubling.</summary>
    public static long SizeClass(long bytes)
    {
        if (bytes <= 8)
            return 8;
        if (bytes <= 128)
            return (bytes + 15) & ~15L;
        int log = 63 - BitOperations.LeadingZeroCount((ulong)(bytes - 1));
        long step = 1L << (log - 2);
        return (bytes + step - 1) & ~(step - 1);
    }

    /// <summary>An sds string's allocation: the smallest header its length allows (sdshdr5 under 32 bytes), the bytes, a NUL.</summary>
    private static long Sds(long length) => SizeClass(SdsHeader(length) + length + 1);

    private static long SdsHeader(long length) => length switch
    {
        < 32 => 1,
        < 256 => 3,
        < 65536 => 5,
        _ => 9,
    };

    private static long StringValue(in Entry entry)
    {
        var text = entry.String;
        // An integer is held in the robj itself; up to 44 bytes the robj and an sdshdr8 share one allocation.
        if (text.Length <= 20 && Numbers.TryParseInt64(text, out long number) && Numbers.FormatInt64(number, stackalloc byte[20]) == text.Length
            && entry.EncodingHint != StringEncodingHint.Raw)
            return RobjBytes;
        if (text.Length <= 44 && entry.EncodingHint != StringEncodingHint.Raw)
            return SizeClass(RobjBytes + 3 + text.Length + 1);
        return RobjBytes + SizeClass(Math.Max(3, SdsHeader(text.Length)) + text.Length + 1);
    }

    private static long ObjectValue(RedisObject value, EncodingLimits limits, long samples)
    {
        // psyncd names the compact encodings as Redis 2.8 did (ziplist); Redis 7.0 lays them out as listpacks.
        string encoding = value.EncodingName(limits);
        bool compact = encoding is "ziplist" or "listpack";
        return value switch
        {
            ListObject list => List(list, samples),
            HashObject hash => compact ? RobjBytes + SizeClass(HashListpack(hash)) : Hashtable(hash, samples),
            SetObject set => encoding == "intset" ? RobjBytes + SizeClass(Intset(set)) : SetHashtable(set, samples),
            SortedSetObject zset => compact ? RobjBytes + SizeClass(ZsetListpack(zset)) : Skiplist(zset, samples),
            _ => RobjBytes,
        };
    }

    /// <summary>A quicklist of 8 KB listpack nodes: the nodes' share estimated from the sampled elements' listpack bytes.</summary>
    private static long List(ListObject list, long samples)
    {
        long sampled = 0, bytes = 0;
        var cursor = list.At(0);
        while ((samples == 0 || sampled < samples) && cursor.Next(out var element))
        {
            bytes += ListpackEntry(element);
            sampled++;
        }
        long total = sampled == 0 ? 0 : (long)((double)bytes / sampled * list.Count);
        long nodes = Math.Max(1, (total + QuicklistNodeLimit - 8) / (QuicklistNodeLimit - 7));
        long perNode = SizeClass(6 + total / nodes + 1);
        return RobjBytes + QuicklistBytes + nodes * (QuicklistNodeBytes + perNode);
    }

    private static long HashListpack(HashObject hash)
    {
        long bytes = 7;
        for (int i = 0; i < hash.SlotCount; i++)
        {
            if (hash.TryGetSlot(i, out var field, out var value))
                bytes += ListpackEntry(field) + ListpackEntry(value);
        }
        return bytes;
    }

    private static long Hashtable(HashObject hash, long samples)
    {
        long sampled = 0, bytes = 0;
        for (int i = 0; i < hash.SlotCount && (samples == 0 || sampled < samples); i++)
        {
            if (!hash.TryGetSlot(i, out var field, out var value))
                continue;
            bytes += DictEntryBytes + Sds(field.Length) + Sds(value.Length);
            sampled++;
        }
        return RobjBytes + DictBytes + Buckets(hash.Count) + Extrapolate(bytes, sampled, hash.Count);
    }

    private static long Intset(SetObject set)
    {
        int width = 2;
        for (int i = 0; i < set.Count; i++)
        {
            Numbers.TryParseInt64(set.MemberAt(i), out long v);
            width = Math.Max(width, v is >= short.MinValue and <= short.MaxValue ? 2 : v is >= int.MinValue and <= int.MaxValue ? 4 : 8);
        }
        return 8 + width * set.Count;
    }

    private static long SetHashtable(SetObject set, long samples)
    {
        long sampled = 0, bytes = 0;
        for (int i = 0; i < set.Count && (samples == 0 || sampled < samples); i++, sampled++)
            bytes += DictEntryBytes + Sds(set.MemberAt(i).Length);
        return RobjBytes + DictBytes + Buckets(set.Count) + Extrapolate(bytes, sampled, set.Count);
    }

    private static long ZsetListpack(SortedSetObject zset)
    {
        long bytes = 7;
        Span<byte> text = stackalloc byte[32];
        foreach (var (member, score) in zset.Entries)
        {
            bytes += ListpackEntry(member);
            // A score is stored as an integer when it is one, else as its %.17g text.
            if (score == Math.Floor(score) && Math.Abs(score) < 1e17)
                bytes += IntegerEntry((long)score);
            else
                bytes += StringEntry(Numbers.FormatDouble(score).Length);
        }
        return bytes;
    }

    /// <summary>The skiplist (its nodes sized by their real levels), the member dict, and the 32-level header node.</summary>
    private static long Skiplist(SortedSetObject zset, long samples)
    {
        long sampled = 0, bytes = 0;
        for (var node = zset.First; node is not null && (samples == 0 || sampled < samples); node = node.Next, sampled++)
            bytes += Sds(zset.MemberOf(node).Length) + DictEntryBytes + SizeClass(24 + 16 * node.Level);
        long fixedPart = RobjBytes + ZsetBytes + ZskiplistBytes + DictBytes + Buckets(zset.Count) + SizeClass(24 + 16 * 32);
        return fixedPart + Extrapolate(bytes, sampled, zset.Count);
    }

    private static long Extrapolate(long bytes, long sampled, long count) => sampled == 0 ? 0 : (long)((double)bytes / sampled * count);

    /// <summary>A dict's bucket array: a power of two at least the element count (4 at least), 8 bytes each.</summary>
    private static long Buckets(long count) => 8 * (long)BitOperations.RoundUpToPowerOf2((ulong)Math.Max(4, count));

    /// <summary>One listpack entry: its encoding and data, then its back length.</summary>
    private static long ListpackEntry(ReadOnlySpan<byte> element)
    {
        if (element.Length <= 20 && Numbers.TryParseInt64(element, out long number) && Numbers.FormatInt64(number, stackalloc byte[20]) == element.Length)
            return IntegerEntry(number);
        return StringEntry(element.Length);
    }

    private static long IntegerEntry(long value)
    {
        long body = value switch
        {
            >= 0 and <= 127 => 1,
            >= -4096 and <= 4095 => 2,
            >= short.MinValue and <= short.MaxValue => 3,
            >= -(1 << 23) and <= (1 << 23) - 1 => 4,
            >= int.MinValue and <= int.MaxValue => 5,
            _ => 9,
        };
        return body + 1;
    }

    private static long StringEntry(long length)
    {
        long body = length < 64 ? 1 + length : length < 4096 ? 2 + length : 5 + length;
        long back = body <= 127 ? 1 : body < 16383 ? 2 : body < 2097151 ? 3 : body < 268435455 ? 4 : 5;
        return body + back;
    }
}
