using System.Buffers;
using System.Buffers.Text;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>
/// The geo commands (Redis's geo.c): a geo set is a sorted set whose scores are 52-bit geohashes
/// (<see cref="GeoHash"/>). GEOADD stores through ZADD and propagates as the ZADD it ran; the searches are in
/// GeoCommands.Search.cs.
/// </summary>
internal static partial class GeoCommands
{
    private const string UnknownUnit = "ERR unsupported unit provided. please use M, KM, FT, MI";

    public static void Register(CommandTable table)
    {
        table.Add("geoadd", -5, CommandFlags.Write | CommandFlags.DenyOom, GeoAdd, 1, 1, 1);
        table.Add("geodist", -4, CommandFlags.ReadOnly, GeoDist, 1, 1, 1);
        table.Add("geohash", -2, CommandFlags.ReadOnly, GeoHashOf, 1, 1, 1);
        table.Add("geopos", -2, CommandFlags.ReadOnly, GeoPos, 1, 1, 1);
        // GEORADIUS and GEORADIUSBYMEMBER may STORE: write commands, refused on read-only replicas, hence the _RO forms.
        table.Add("georadius", -6, CommandFlags.Write | CommandFlags.DenyOom, GeoRadius, 1, 1, 1);
        table.Add("georadiusbymember", -5, CommandFlags.Write | CommandFlags.DenyOom, GeoRadiusByMember, 1, 1, 1);
        table.Add("georadius_ro", -6, CommandFlags.ReadOnly, GeoRadiusReadOnly, 1, 1, 1);
        table.Add("georadiusbymember_ro", -5, CommandFlags.ReadOnly, GeoRadiusByMemberReadOnly, 1, 1, 1);
        table.Add("geosearch", -7, CommandFlags.ReadOnly, GeoSearch, 1, 1, 1);
        table.Add("geosearchstore", -8, CommandFlags.Write | CommandFlags.DenyOom, GeoSearchStore, 1, 2, 1);
    }

    // ------------------------------------------------------------------
    // GEOADD
    // ------------------------------------------------------------------

    /// <summary>
    /// GEOADD key [NX|XX] [CH] longitude latitude member [...]: turns each position into its score and runs
    /// ZADD key [options] score member ... (as Redis does, whose ZADD then replies, notifies "zadd" and is what
    /// replicas receive).
    /// </summary>
    private static void GeoAdd(CommandContext ctx, in CommandArgs args)
    {
        int first = 2;
        bool nx = false, xx = false;
        for (; first < args.Count; first++)
        {
            var a = args[first];
            if (Keyword.Is(a, "NX"u8))
                nx = true;
            else if (Keyword.Is(a, "XX"u8))
                xx = true;
            else if (!Keyword.Is(a, "CH"u8))
                break;
        }
        if ((args.Count - first) % 3 != 0 || (nx && xx))
        {
            ctx.SyntaxError();
            return;
        }
        int elements = (args.Count - first) / 3;
        int argc = first + elements * 2;

        // The ZADD request: "zadd", the key and options as given, then score and member for each position.
        int size = 4;
        for (int i = 1; i < first; i++)
            size += args[i].Length;
        for (int i = 0; i < elements; i++)
            size += 20 + args[first + i * 3 + 2].Length;
        byte[] buffer = ArrayPool<byte>.Shared.Rent(size);
        ArgSlice[] slices = ArrayPool<ArgSlice>.Shared.Rent(argc);
        try
        {
            int length = 0;
            Append(buffer, slices, 0, ref length, "zadd"u8);
            for (int i = 1; i < first; i++)
                Append(buffer, slices, i, ref length, args[i]);
            for (int i = 0; i < elements; i++)
            {
                if (!TryParsePosition(ctx, args[first + i * 3], args[first + i * 3 + 1], out double longitude, out double latitude))
                    return;
                Utf8Formatter.TryFormat(GeoHash.Score(longitude, latitude), buffer.AsSpan(length), out int written);
                slices[first + i * 2] = new ArgSlice(length, written);
                length += written;
                Append(buffer, slices, first + i * 2 + 1, ref length, args[first + i * 3 + 2]);
            }
            var zadd = new CommandArgs(buffer.AsSpan(0, length), slices.AsSpan(0, argc));
            long dirty = ctx.Keyspace.Dirty;
            SortedSetCommands.ZAddFrom(ctx, zadd);
            if (ctx.Keyspace.Dirty != dirty)
            {
                var p = ctx.Propagate(argc);
                for (int i = 0; i < argc; i++)
                    p.WriteBulk(zadd[i]);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            ArrayPool<ArgSlice>.Shared.Return(slices);
        }
    }

    private static void Append(byte[] buffer, ArgSlice[] slices, int index, ref int length, ReadOnlySpan<byte> value)
    {
        value.CopyTo(buffer.AsSpan(length));
        slices[index] = new ArgSlice(length, value.Length);
        length += value.Length;
    }

    /// <summary>
    /// Parses a longitude and a latitude (extractLongLatOrReply): each a valid float, the pair inside the geo
    /// set's limits, else Redis's error with the pair printed as C's "%f". False after replying the error.
    /// </summary>
    private static bool TryParsePosition(CommandContext ctx, ReadOnlySpan<byte> longitudeText, ReadOnlySpan<byte> latitudeText,
        out double longitude, out double latitude)
    {
        latitude = 0;
        if (!Numbers.TryParseDouble(longitudeText, out longitude) || !Numbers.TryParseDouble(latitudeText, out latitude))
        {
            ctx.Reply.WriteError(ErrorReplies.NotFloat);
            return false;
        }
        if (!GeoHash.IsValid(longitude, latitude))
        {
            ctx.Reply.WriteError("ERR invalid longitude,latitude pair " + Numbers.FormatFixed(longitude, 6) + "," + Numbers.FormatFixed(latitude, 6));
            return false;
        }
        return true;
    }

    /// <summary>The meters in one unit of M, KM, FT or MI (any case); -1 after replying the error.</summary>
    private static double ParseUnit(CommandContext ctx, ReadOnlySpan<byte> unit)
    {
        if (Keyword.Is(unit, "m"u8))
            return 1;
        if (Keyword.Is(unit, "km"u8))
            return 1000;
        if (Keyword.Is(unit, "ft"u8))
            return 0.3048;
        if (Keyword.Is(unit, "mi"u8))
            return 1609.34;
        ctx.Reply.WriteError(UnknownUnit);
        return -1;
    }

    // ------------------------------------------------------------------
    // GEOPOS, GEOHASH, GEODIST
    // ------------------------------------------------------------------

    /// <summary>Looks up a geo set for reading: false after replying WRONGTYPE; null when the key is missing.</summary>
    private static bool TryLookup(CommandContext ctx, ReadOnlySpan<byte> key, out SortedSetObject? zset)
    {
        zset = null;
        var entry = ctx.Db.LookupRead(key);
        if (entry.IsNot(ValueKind.SortedSet))
        {
            ctx.WrongType();
            return false;
        }
        if (entry.Exists)
            zset = entry.As<SortedSetObject>();
        return true;
    }

    /// <summary>GEOPOS key member ...: each member's [longitude, latitude], or a null array.</summary>
    private static void GeoPos(CommandContext ctx, in CommandArgs args)
    {
        if (!TryLookup(ctx, args[1], out var zset))
            return;
        ctx.Reply.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
        {
            if (zset is null || !zset.TryGetScore(args[i], out double score))
            {
                ctx.Reply.WriteNullArray();
                continue;
            }
            var (longitude, latitude) = GeoHash.DecodeScore(score);
            ctx.Reply.WriteArrayHeader(2);
            WriteCoordinate(ctx.Reply, longitude);
            WriteCoordinate(ctx.Reply, latitude);
        }
    }

    /// <summary>A coordinate as addReplyHumanLongDouble writes it: a bulk string under RESP2, a double under RESP3.</summary>
    private static void WriteCoordinate(ReplyWriter reply, double value)
    {
        Span<byte> text = stackalloc byte[32];
        string human = Numbers.FormatHuman(value);
        int n = System.Text.Encoding.ASCII.GetBytes(human, text);
        reply.WriteDouble(text[..n]);
    }

    /// <summary>A distance as Redis replies with it: "%.4f", always a bulk string.</summary>
    private static void WriteDistance(ReplyWriter reply, double distance)
    {
        string text = Numbers.FormatFixed(distance, 4);
        Span<byte> bytes = stackalloc byte[text.Length];
        System.Text.Encoding.ASCII.GetBytes(text, bytes);
        reply.WriteBulk(bytes);
    }

    /// <summary>GEOHASH key member ...: each member's eleven-character standard geohash, or nil.</summary>
    private static void GeoHashOf(CommandContext ctx, in CommandArgs args)
    {
        if (!TryLookup(ctx, args[1], out var zset))
            return;
        ctx.Reply.WriteArrayHeader(args.Count - 2);
        Span<byte> text = stackalloc byte[11];
        for (int i = 2; i < args.Count; i++)
        {
            if (zset is null || !zset.TryGetScore(args[i], out double score))
            {
                ctx.Reply.WriteNullBulk();
                continue;
            }
            GeoHash.WriteStandardGeohash(score, text);
            ctx.Reply.WriteBulk(text);
        }
    }

    /// <summary>GEODIST key member1 member2 [M|KM|FT|MI]: the distance between two members, or nil.</summary>
    private static void GeoDist(CommandContext ctx, in CommandArgs args)
    {
        double toMeters = 1;
        if (args.Count == 5)
        {
            toMeters = ParseUnit(ctx, args[4]);
            if (toMeters < 0)
                return;
        }
        else if (args.Count > 5)
        {
            ctx.SyntaxError();
            return;
        }
        if (!TryLookup(ctx, args[1], out var zset))
            return;
        if (zset is null || !zset.TryGetScore(args[2], out double score1) || !zset.TryGetScore(args[3], out double score2))
        {
            ctx.Reply.WriteNullBulk();
            return;
        }
        var (longitude1, latitude1) = GeoHash.DecodeScore(score1);
        var (longitude2, latitude2) = GeoHash.DecodeScore(score2);
        WriteDistance(ctx.Reply, GeoHash.Distance(longitude1, latitude1, longitude2, latitude2) / toMeters);
    }
}
