using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>
/// GEORADIUS, GEORADIUSBYMEMBER, their _RO forms, GEOSEARCH and GEOSEARCHSTORE: one search (Redis's
/// georadiusGeneric) whose arguments, errors, scan order, sorting and replies follow redis-server 7.0's.
/// </summary>
internal static partial class GeoCommands
{
    [Flags]
    private enum SearchKind
    {
        /// <summary>GEORADIUS: the center is a longitude and a latitude.</summary>
        Coordinates = 1,

        /// <summary>GEORADIUSBYMEMBER: the center is a member's position.</summary>
        Member = 2,

        /// <summary>The _RO forms: STORE and STOREDIST are syntax errors.</summary>
        NoStore = 4,

        /// <summary>GEOSEARCH's FROMMEMBER/FROMLONLAT/BYRADIUS/BYBOX arguments.</summary>
        Search = 8,

        /// <summary>GEOSEARCHSTORE: the destination comes first; STOREDIST is a flag.</summary>
        SearchStore = 16,
    }

    private enum SortOrder
    {
        None,
        Ascending,
        Descending,
    }

    /// <summary>A point found by a search: its position, its distance from the center (meters, then the unit), its score.</summary>
    private struct GeoPoint
    {
        public double Longitude;
        public double Latitude;
        public double Distance;
        public double Score;
        public byte[] Member;
    }

    private static void GeoRadius(CommandContext ctx, in CommandArgs args) => Search(ctx, args, 1, SearchKind.Coordinates);

    private static void GeoRadiusByMember(CommandContext ctx, in CommandArgs args) => Search(ctx, args, 1, SearchKind.Member);

    private static void GeoRadiusReadOnly(CommandContext ctx, in CommandArgs args) => Search(ctx, args, 1, SearchKind.Coordinates | SearchKind.NoStore);

    private static void GeoRadiusByMemberReadOnly(CommandContext ctx, in CommandArgs args) => Search(ctx, args, 1, SearchKind.Member | SearchKind.NoStore);

    private static void GeoSearch(CommandContext ctx, in CommandArgs args) => Search(ctx, args, 1, SearchKind.Search);

    private static void GeoSearchStore(CommandContext ctx, in CommandArgs args) => Search(ctx, args, 2, SearchKind.Search | SearchKind.SearchStore);

    private static void Search(CommandContext ctx, in CommandArgs args, int sourceIndex, SearchKind kind)
    {
        if (!TryLookup(ctx, args[sourceIndex], out var zset))
            return;

        var shape = new GeoShape();
        int optionsStart;
        ReadOnlySpan<byte> storeKey = default;
        bool store = false, storeDistance = false;
        if ((kind & SearchKind.Coordinates) != 0)
        {
            optionsStart = 6;
            if (!TryParsePosition(ctx, args[2], args[3], out shape.Longitude, out shape.Latitude)
                || !TryParseRadius(ctx, args[4], args[5], ref shape))
                return;
        }
        else if ((kind & SearchKind.Member) != 0)
        {
            optionsStart = 5;
            // Without the key Redis parses the rest only to know which empty reply to give.
            if (zset is not null)
            {
                if (!TryMemberPosition(ctx, zset, args[2], ref shape) || !TryParseRadius(ctx, args[3], args[4], ref shape))
                    return;
            }
        }
        else
        {
            optionsStart = 2;
            if ((kind & SearchKind.SearchStore) != 0)
            {
                optionsStart = 3;
                storeKey = args[1];
                store = true;
            }
        }

        bool withDistance = false, withHash = false, withCoordinates = false, any = false;
        bool fromMember = false, fromPosition = false, byRadius = false, byBox = false;
        var sort = SortOrder.None;
        long count = 0;
        bool isSearch = (kind & SearchKind.Search) != 0;
        int remaining = args.Count - optionsStart;
        for (int i = 0; i < remaining; i++)
        {
            var arg = args[optionsStart + i];
            if (Keyword.Is(arg, "WITHDIST"u8))
            {
                withDistance = true;
            }
            else if (Keyword.Is(arg, "WITHHASH"u8))
            {
                withHash = true;
            }
            else if (Keyword.Is(arg, "WITHCOORD"u8))
            {
                withCoordinates = true;
            }
            else if (Keyword.Is(arg, "ANY"u8))
            {
                any = true;
            }
            else if (Keyword.Is(arg, "ASC"u8))
            {
                sort = SortOrder.Ascending;
            }
            else if (Keyword.Is(arg, "DESC"u8))
            {
                sort = SortOrder.Descending;
            }
            else if (Keyword.Is(arg, "COUNT"u8) && i + 1 < remaining)
            {
                if (!Numbers.TryParseInt64(args[optionsStart + i + 1], out count))
                {
                    ctx.NotInteger();
                    return;
                }
                if (count <= 0)
                {
                    ctx.Reply.WriteError("ERR COUNT must be > 0"u8);
                    return;
                }
                i++;
            }
            else if ((Keyword.Is(arg, "STORE"u8) || Keyword.Is(arg, "STOREDIST"u8)) && i + 1 < remaining
                     && (kind & (SearchKind.NoStore | SearchKind.Search)) == 0)
            {
                storeKey = args[optionsStart + i + 1];
                store = true;
                storeDistance = Keyword.Is(arg, "STOREDIST"u8);
                i++;
            }
            else if (Keyword.Is(arg, "STOREDIST"u8) && (kind & SearchKind.SearchStore) != 0)
            {
                storeDistance = true;
            }
            else if (Keyword.Is(arg, "FROMMEMBER"u8) && i + 1 < remaining && isSearch && !fromPosition)
            {
                // Without the key the member is not looked up: the search answers empty once the arguments are checked.
                if (zset is not null && !TryMemberPosition(ctx, zset, args[optionsStart + i + 1], ref shape))
                    return;
                fromMember = true;
                i++;
            }
            else if (Keyword.Is(arg, "FROMLONLAT"u8) && i + 2 < remaining && isSearch && !fromMember)
            {
                if (!TryParsePosition(ctx, args[optionsStart + i + 1], args[optionsStart + i + 2], out shape.Longitude, out shape.Latitude))
                    return;
                fromPosition = true;
                i += 2;
            }
            else if (Keyword.Is(arg, "BYRADIUS"u8) && i + 2 < remaining && isSearch && !byBox)
            {
                if (!TryParseRadius(ctx, args[optionsStart + i + 1], args[optionsStart + i + 2], ref shape))
                    return;
                byRadius = true;
                i += 2;
            }
            else if (Keyword.Is(arg, "BYBOX"u8) && i + 3 < remaining && isSearch && !byRadius)
            {
                if (!TryParseBox(ctx, args[optionsStart + i + 1], args[optionsStart + i + 2], args[optionsStart + i + 3], ref shape))
                    return;
                byBox = true;
                i += 3;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }

        if (store && (withDistance || withHash || withCoordinates))
        {
            ctx.Reply.WriteError((kind & SearchKind.SearchStore) != 0
                ? "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"u8
                : "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"u8);
            return;
        }
        if (isSearch && !(fromMember || fromPosition))
        {
            ctx.Reply.WriteError("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + CommandName(args));
            return;
        }
        if (isSearch && !(byRadius || byBox))
        {
            ctx.Reply.WriteError("ERR exactly one of BYRADIUS and BYBOX can be specified for " + CommandName(args));
            return;
        }
        if (any && count == 0)
        {
            ctx.Reply.WriteError("ERR the ANY argument requires COUNT argument"u8);
            return;
        }

        if (zset is null)
        {
            if (store)
            {
                ctx.Db.LookupWrite(storeKey);
                if (ctx.Db.Delete(storeKey))
                    ctx.Notify(KeyspaceEventClass.Generic, "del"u8, storeKey);
                ctx.Reply.WriteInteger(0);
            }
            else
            {
                ctx.Reply.WriteArrayHeader(0);
            }
            return;
        }

        // COUNT means the nearest ones: without an order it sorts ascending (not with ANY, which takes the first found).
        if (count != 0 && sort == SortOrder.None && !any)
            sort = SortOrder.Ascending;

        var points = Collect(zset, shape, any ? count : 0);
        if (points.Count == 0 && !store)
        {
            ctx.Reply.WriteArrayHeader(0);
            return;
        }
        int returned = count == 0 || points.Count < count ? points.Count : (int)count;
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(points);
        if (sort != SortOrder.None)
        {
            bool descending = sort == SortOrder.Descending;
            if (returned == points.Count)
                MergeSort(span, descending);
            else
                PartialQuickSort(span, 0, returned - 1, descending);
        }

        if (!store)
        {
            int options = (withDistance ? 1 : 0) + (withHash ? 1 : 0) + (withCoordinates ? 1 : 0);
            var reply = ctx.Reply;
            reply.WriteArrayHeader(returned);
            for (int i = 0; i < returned; i++)
            {
                ref var point = ref span[i];
                if (options > 0)
                    reply.WriteArrayHeader(options + 1);
                reply.WriteBulk(point.Member);
                if (withDistance)
                    WriteDistance(reply, point.Distance / shape.Conversion);
                if (withHash)
                    reply.WriteInteger((long)point.Score);
                if (withCoordinates)
                {
                    reply.WriteArrayHeader(2);
                    WriteCoordinate(reply, point.Longitude);
                    WriteCoordinate(reply, point.Latitude);
                }
            }
            return;
        }

        var result = new SortedSetObject { Compact = false };
        for (int i = 0; i < returned; i++)
            result.Add(span[i].Member, storeDistance ? span[i].Distance / shape.Conversion : span[i].Score);
        SortedSetCommands.StoreResult(ctx, storeKey, result, (kind & SearchKind.Search) != 0 ? "geosearchstore"u8 : "georadiusstore"u8);
    }

    /// <summary>The command's name as the client spelled it (Redis's errors quote argv[0]).</summary>
    private static string CommandName(in CommandArgs args) => System.Text.Encoding.UTF8.GetString(args[0]);

    /// <summary>Takes a member's position as the center (longLatFromMember); false after Redis's error when it is missing.</summary>
    private static bool TryMemberPosition(CommandContext ctx, SortedSetObject zset, ReadOnlySpan<byte> member, ref GeoShape shape)
    {
        if (!zset.TryGetScore(member, out double score))
        {
            ctx.Reply.WriteError("ERR could not decode requested zset member"u8);
            return false;
        }
        (shape.Longitude, shape.Latitude) = GeoHash.DecodeScore(score);
        return true;
    }

    /// <summary>A radius and its unit (extractDistanceOrReply); false after replying the error.</summary>
    private static bool TryParseRadius(CommandContext ctx, ReadOnlySpan<byte> radius, ReadOnlySpan<byte> unit, ref GeoShape shape)
    {
        if (!Numbers.TryParseDouble(radius, out double value))
        {
            ctx.Reply.WriteError("ERR need numeric radius"u8);
            return false;
        }
        if (value < 0)
        {
            ctx.Reply.WriteError("ERR radius cannot be negative"u8);
            return false;
        }
        shape.Radius = value;
        return TrySetUnit(ctx, unit, ref shape, isBox: false);
    }

    /// <summary>The shape's unit and kind, once its sizes are read; false after replying an unknown unit.</summary>
    private static bool TrySetUnit(CommandContext ctx, ReadOnlySpan<byte> unit, ref GeoShape shape, bool isBox)
    {
        double conversion = ParseUnit(ctx, unit);
        if (conversion < 0)
            return false;
        shape.Conversion = conversion;
        shape.IsBox = isBox;
        return true;
    }

    /// <summary>A box's width, height and unit (extractBoxOrReply); false after replying the error.</summary>
    private static bool TryParseBox(CommandContext ctx, ReadOnlySpan<byte> width, ReadOnlySpan<byte> height, ReadOnlySpan<byte> unit, ref GeoShape shape)
    {
        if (!Numbers.TryParseDouble(width, out double w))
        {
            ctx.Reply.WriteError("ERR need numeric width"u8);
            return false;
        }
        if (!Numbers.TryParseDouble(height, out double h))
        {
            ctx.Reply.WriteError("ERR need numeric height"u8);
            return false;
        }
        if (h < 0 || w < 0)
        {
            ctx.Reply.WriteError("ERR height or width cannot be negative"u8);
            return false;
        }
        shape.Width = w;
        shape.Height = h;
        return TrySetUnit(ctx, unit, ref shape, isBox: true);
    }

    /// <summary>
    /// The points inside the shape, in the order Redis finds them (membersOfAllNeighbors): cell by cell (the
    /// center's, then its neighbours), each cell's score range in sorted set order. With a
    /// <paramref name="limit"/> (ANY) the scan stops once that many are found.
    /// </summary>
    private static List<GeoPoint> Collect(SortedSetObject zset, in GeoShape shape, long limit)
    {
        var points = new List<GeoPoint>();
        Span<GeoHash.Cell> cells = stackalloc GeoHash.Cell[9];
        GeoHash.SearchCells(shape, cells);
        int lastScanned = 0;
        for (int i = 0; i < cells.Length; i++)
        {
            if (cells[i].IsNone)
                continue;
            // Huge radii make adjacent neighbours the same cell. As in Redis, only a repeat of the last scanned
            // neighbour is skipped, and the center (index 0) is never compared with.
            if (lastScanned != 0 && cells[i] == cells[lastScanned])
                continue;
            if (points.Count > 0 && limit != 0 && points.Count >= limit)
                break;
            ScanCell(zset, cells[i], shape, points, limit);
            lastScanned = i;
        }
        return points;
    }

    private static void ScanCell(SortedSetObject zset, GeoHash.Cell cell, in GeoShape shape, List<GeoPoint> points, long limit)
    {
        var (min, max) = GeoHash.ScoreRange(cell);
        var range = new ScoreRange(min, minExclusive: false, max, maxExclusive: true);
        for (var node = zset.FirstInRange(range); node is not null && range.LteMax(node.Score); node = node.Next)
        {
            var (longitude, latitude) = GeoHash.DecodeScore(node.Score);
            double distance;
            bool inside = shape.IsBox
                ? GeoHash.InRectangle(shape.Width * shape.Conversion, shape.Height * shape.Conversion, shape.Longitude, shape.Latitude,
                    longitude, latitude, out distance)
                : !((distance = GeoHash.Distance(shape.Longitude, shape.Latitude, longitude, latitude)) > shape.Radius * shape.Conversion);
            if (inside)
            {
                points.Add(new GeoPoint
                {
                    Longitude = longitude,
                    Latitude = latitude,
                    Distance = distance,
                    Score = node.Score,
                    Member = zset.MemberOf(node).ToArray(),
                });
            }
            if (points.Count > 0 && limit != 0 && points.Count >= limit)
                break;
        }
    }
}
