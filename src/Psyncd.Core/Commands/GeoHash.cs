namespace Psyncd.Commands;

/// <summary>
/// The geohash arithmetic of Redis's geo sets (geohash.c and geohash_helper.c): a position is a sorted set
/// score, the 52-bit interleaving of 26 bits of latitude (even bits) and 26 bits of longitude (odd bits) over
/// Web Mercator's latitude limits. Every floating-point step is done in the same order and precision as
/// redis-server does it, so that scores, decoded coordinates and distances are the same doubles.
/// </summary>
internal static class GeoHash
{
    public const double LongitudeMin = -180;
    public const double LongitudeMax = 180;

    /// <summary>EPSG:900913's latitude limits: a geo set cannot index the poles.</summary>
    public const double LatitudeMin = -85.05112878;
    public const double LatitudeMax = 85.05112878;

    /// <summary>Bits per coordinate of a stored score (26 + 26 = 52, what a double holds exactly).</summary>
    public const int MaxStep = 26;

    /// <summary>The radius Redis's haversine formula uses (WGS-84's quadratic mean), in meters.</summary>
    private const double EarthRadiusMeters = 6372797.560856;

    /// <summary>Half of Web Mercator's width in meters: the search step is the one whose cells cover the radius.</summary>
    private const double MercatorMax = 20037726.37;

    private const double DegreesToRadians = Math.PI / 180.0;

    /// <summary>A cell: its interleaved bits and how many bits per coordinate it has (0 and 0: no cell).</summary>
    public readonly record struct Cell(ulong Bits, int Step)
    {
        public bool IsNone => Bits == 0 && Step == 0;
    }

    /// <summary>A cell's extent.</summary>
    public readonly record struct Area(double LongitudeMin, double LongitudeMax, double LatitudeMin, double LatitudeMax);

    /// <summary>True when Redis accepts the pair as a position (GEOADD, FROMLONLAT, GEORADIUS's center).</summary>
    public static bool IsValid(double longitude, double latitude)
        => !(longitude < LongitudeMin || longitude > LongitudeMax || latitude < LatitudeMin || latitude > LatitudeMax);

    /// <summary>The score GEOADD stores for a valid position.</summary>
    public static ulong Score(double longitude, double latitude)
    {
        var cell = Encode(longitude, latitude, MaxStep, LatitudeMin, LatitudeMax);
        return cell.Bits << (52 - cell.Step * 2);
    }

    /// <summary>
    /// The cell of <paramref name="step"/> bits per coordinate holding a position, over the latitude range given
    /// (GEOHASH re-encodes over -90..90, the standard geohash's range); no cell when out of range.
    /// </summary>
    public static Cell Encode(double longitude, double latitude, int step, double latitudeMin = LatitudeMin, double latitudeMax = LatitudeMax)
    {
        if (!IsValid(longitude, latitude) || latitude < latitudeMin || latitude > latitudeMax)
            return new Cell(0, step);
        double latitudeOffset = (latitude - latitudeMin) / (latitudeMax - latitudeMin);
        double longitudeOffset = (longitude - LongitudeMin) / (LongitudeMax - LongitudeMin);
        latitudeOffset *= 1UL << step;
        longitudeOffset *= 1UL << step;
        // C converts the offsets to uint32_t by truncation (both are in [0, 2^step]).
        return new Cell(Interleave((uint)latitudeOffset, (uint)longitudeOffset), step);
    }

    /// <summary>The extent of a cell over the geo set's ranges.</summary>
    public static Area Decode(Cell cell)
    {
        ulong separated = Deinterleave(cell.Bits);
        uint latitudeIndex = (uint)separated;
        uint longitudeIndex = (uint)(separated >> 32);
        double cells = 1UL << cell.Step;
        const double latitudeScale = LatitudeMax - LatitudeMin;
        const double longitudeScale = LongitudeMax - LongitudeMin;
        return new Area(
            LongitudeMin + (longitudeIndex * 1.0 / cells) * longitudeScale,
            LongitudeMin + ((uint)(longitudeIndex + 1) * 1.0 / cells) * longitudeScale,
            LatitudeMin + (latitudeIndex * 1.0 / cells) * latitudeScale,
            LatitudeMin + ((uint)(latitudeIndex + 1) * 1.0 / cells) * latitudeScale);
    }

    /// <summary>
    /// The position a score stands for: the center of its 26-bit cell, clamped to the valid ranges. Any score
    /// decodes (a ZADD may have stored anything): it is first converted to an unsigned 64-bit integer as gcc's
    /// x86-64 code converts a double (out of range and NaN give 2^63, or 0 from 2^64 up).
    /// </summary>
    public static (double Longitude, double Latitude) DecodeScore(double score)
    {
        var area = Decode(new Cell(ToUInt64AsC(score), MaxStep));
        double longitude = (area.LongitudeMin + area.LongitudeMax) / 2;
        longitude = Math.Clamp(longitude, LongitudeMin, LongitudeMax);
        double latitude = (area.LatitudeMin + area.LatitudeMax) / 2;
        latitude = Math.Clamp(latitude, LatitudeMin, LatitudeMax);
        return (longitude, latitude);
    }

    private static ulong ToUInt64AsC(double value)
    {
        const double twoTo63 = 9223372036854775808.0;
        if (!(value >= twoTo63))
            return value > -twoTo63 ? (ulong)(long)value : 1UL << 63; // NaN and -2^63 and below: cvttsd2si's "indefinite"
        double reduced = value - twoTo63;
        return reduced < twoTo63 ? (ulong)(long)reduced ^ (1UL << 63) : 0;
    }

    /// <summary>The eleven-character standard geohash GEOHASH answers (52 bits, then a zero character).</summary>
    public static void WriteStandardGeohash(double score, Span<byte> destination)
    {
        ReadOnlySpan<byte> alphabet = "0123456789bcdefghjkmnpqrstuvwxyz"u8;
        var (longitude, latitude) = DecodeScore(score);
        ulong bits = Encode(longitude, latitude, MaxStep, -90, 90).Bits;
        for (int i = 0; i < 10; i++)
            destination[i] = alphabet[(int)((bits >> (52 - (i + 1) * 5)) & 0x1f)];
        destination[10] = alphabet[0];
    }

    /// <summary>
    /// Great-circle distance in meters (haversine), as redis-server 7.0.15's geohashGetDistance computes it: on
    /// one meridian (the longitudes' half-difference has a sine of 0) it is the latitude arc alone, computed
    /// directly (7.0.8 took that shortcut; its last bits differ from the full formula's).
    /// </summary>
    public static double Distance(double longitude1, double latitude1, double longitude2, double latitude2)
    {
        double longitude1R = longitude1 * DegreesToRadians;
        double longitude2R = longitude2 * DegreesToRadians;
        double v = Math.Sin((longitude2R - longitude1R) / 2);
        if (v == 0.0)
            return LatitudeDistance(latitude1, latitude2);
        double latitude1R = latitude1 * DegreesToRadians;
        double latitude2R = latitude2 * DegreesToRadians;
        double u = Math.Sin((latitude2R - latitude1R) / 2);
        double a = u * u + Math.Cos(latitude1R) * Math.Cos(latitude2R) * v * v;
        return 2.0 * EarthRadiusMeters * Math.Asin(Math.Sqrt(a));
    }

    /// <summary>The north-south arc between two latitudes, in meters (geohashGetLatDistance).</summary>
    private static double LatitudeDistance(double latitude1, double latitude2)
        => EarthRadiusMeters * Math.Abs(latitude2 * DegreesToRadians - latitude1 * DegreesToRadians);

    /// <summary>
    /// BYBOX's test (geohashGetDistanceIfInRectangle): the point is inside when its north-south distance from the
    /// center is at most half the height and its east-west distance (along the point's latitude) at most half
    /// the width; <paramref name="distance"/> is then the great-circle distance to the center.
    /// </summary>
    public static bool InRectangle(double widthMeters, double heightMeters, double centerLongitude, double centerLatitude,
        double longitude, double latitude, out double distance)
    {
        distance = 0;
        if (LatitudeDistance(latitude, centerLatitude) > heightMeters / 2)
            return false;
        if (Distance(longitude, latitude, centerLongitude, latitude) > widthMeters / 2)
            return false;
        distance = Distance(centerLongitude, centerLatitude, longitude, latitude);
        return true;
    }

    /// <summary>
    /// The nine cells (the center's and its eight neighbours, some left out) whose score ranges a search must
    /// scan to see every point of the shape (geohashCalculateAreasByShapeWGS84). Order: center, north, south,
    /// east, west, north-east, north-west, south-east, south-west, the order Redis scans them in.
    /// </summary>
    public static void SearchCells(in GeoShape shape, Span<Cell> cells)
    {
        var bounds = shape.BoundingBox();
        double radiusMeters = shape.IsBox
            ? Math.Sqrt((shape.Width / 2) * (shape.Width / 2) + (shape.Height / 2) * (shape.Height / 2))
            : shape.Radius;
        radiusMeters *= shape.Conversion;
        int step = EstimateStep(radiusMeters, shape.Latitude);
        var center = Encode(shape.Longitude, shape.Latitude, step);
        Neighbours(center, cells);

        // Near the edges of the estimated cell a neighbour may not reach far enough: one bit less doubles the cells.
        var north = Decode(cells[1]);
        var south = Decode(cells[2]);
        var east = Decode(cells[3]);
        var west = Decode(cells[4]);
        bool decrease = north.LatitudeMax < bounds.LatitudeMax || south.LatitudeMin > bounds.LatitudeMin
            || east.LongitudeMax < bounds.LongitudeMax || west.LongitudeMin > bounds.LongitudeMin;
        if (step > 1 && decrease)
        {
            step--;
            center = Encode(shape.Longitude, shape.Latitude, step);
            Neighbours(center, cells);
        }
        if (step >= 2)
        {
            // Neighbours wholly beyond the bounding box's side are left out.
            var area = Decode(center);
            if (area.LatitudeMin < bounds.LatitudeMin)
                cells[2] = cells[7] = cells[8] = default;
            if (area.LatitudeMax > bounds.LatitudeMax)
                cells[1] = cells[5] = cells[6] = default;
            if (area.LongitudeMin < bounds.LongitudeMin)
                cells[4] = cells[8] = cells[6] = default;
            if (area.LongitudeMax > bounds.LongitudeMax)
                cells[3] = cells[7] = cells[5] = default;
        }
    }

    /// <summary>The score range [min, max) of the points inside a cell.</summary>
    public static (ulong Min, ulong Max) ScoreRange(Cell cell)
        => (cell.Bits << (52 - cell.Step * 2), (cell.Bits + 1) << (52 - cell.Step * 2));

    /// <summary>Bits per coordinate of cells about as large as the radius (geohashEstimateStepsByRadius).</summary>
    private static int EstimateStep(double rangeMeters, double latitude)
    {
        if (rangeMeters == 0)
            return MaxStep;
        int step = 1;
        while (rangeMeters < MercatorMax)
        {
            rangeMeters *= 2;
            step++;
        }
        step -= 2;
        // Meridians converge towards the poles: cells get narrower, so take larger ones.
        if (latitude > 66 || latitude < -66)
        {
            step--;
            if (latitude > 80 || latitude < -80)
                step--;
        }
        return Math.Clamp(step, 1, MaxStep);
    }

    /// <summary>The center cell and its neighbours, in <see cref="SearchCells"/>'s order.</summary>
    private static void Neighbours(Cell center, Span<Cell> cells)
    {
        cells[0] = center;
        cells[1] = Move(center, 0, 1);
        cells[2] = Move(center, 0, -1);
        cells[3] = Move(center, 1, 0);
        cells[4] = Move(center, -1, 0);
        cells[5] = Move(center, 1, 1);
        cells[6] = Move(center, -1, 1);
        cells[7] = Move(center, 1, -1);
        cells[8] = Move(center, -1, -1);
    }

    /// <summary>
    /// The cell <paramref name="dx"/> columns east and <paramref name="dy"/> rows north, wrapping around at the
    /// edges: each coordinate's bits are incremented or decremented in place, the other coordinate's bits
    /// filling the gaps so that carries travel through them.
    /// </summary>
    private static Cell Move(Cell cell, int dx, int dy)
    {
        ulong bits = cell.Bits;
        int shift = 64 - cell.Step * 2;
        if (dx != 0)
            bits = Step(bits, 0xaaaaaaaaaaaaaaaaUL, 0x5555555555555555UL, shift, dx);
        if (dy != 0)
            bits = Step(bits, 0x5555555555555555UL, 0xaaaaaaaaaaaaaaaaUL, shift, dy);
        return new Cell(bits, cell.Step);
    }

    private static ulong Step(ulong bits, ulong mine, ulong other, int shift, int direction)
    {
        ulong value = bits & mine;
        ulong rest = bits & other;
        ulong filler = other >> shift;
        if (direction > 0)
            value += filler + 1;
        else
            value = (value | filler) - (filler + 1);
        value &= mine >> shift;
        return value | rest;
    }

    /// <summary>Spreads x's bits over the even positions and y's over the odd ones.</summary>
    private static ulong Interleave(uint x, uint y) => Spread(x) | (Spread(y) << 1);

    /// <summary>Gathers the even bits into the low half and the odd bits into the high half.</summary>
    private static ulong Deinterleave(ulong interleaved) => Gather(interleaved) | (Gather(interleaved >> 1) << 32);

    private static ulong Spread(uint value)
    {
        ulong x = value;
        x = (x | (x << 16)) & 0x0000FFFF0000FFFFUL;
        x = (x | (x << 8)) & 0x00FF00FF00FF00FFUL;
        x = (x | (x << 4)) & 0x0F0F0F0F0F0F0F0FUL;
        x = (x | (x << 2)) & 0x3333333333333333UL;
        x = (x | (x << 1)) & 0x5555555555555555UL;
        return x;
    }

    private static ulong Gather(ulong value)
    {
        ulong x = value & 0x5555555555555555UL;
        x = (x | (x >> 1)) & 0x3333333333333333UL;
        x = (x | (x >> 2)) & 0x0F0F0F0F0F0F0F0FUL;
        x = (x | (x >> 4)) & 0x00FF00FF00FF00FFUL;
        x = (x | (x >> 8)) & 0x0000FFFF0000FFFFUL;
        x = (x | (x >> 16)) & 0x00000000FFFFFFFFUL;
        return x;
    }
}

/// <summary>
/// A search area: a center, and a radius or a box (width and height), in the unit the request named;
/// <see cref="Conversion"/> turns that unit into meters.
/// </summary>
internal struct GeoShape
{
    public double Longitude;
    public double Latitude;
    public bool IsBox;
    public double Radius;
    public double Width;
    public double Height;
    public double Conversion;

    /// <summary>
    /// The longitude and latitude bounds of the area (geohashBoundingBox): the east-west extent is taken at the
    /// edge nearer the pole, where a degree of longitude is shortest.
    /// </summary>
    public readonly GeoHash.Area BoundingBox()
    {
        const double earthRadius = 6372797.560856;
        const double degreesToRadians = Math.PI / 180.0;
        double height = Conversion * (IsBox ? Height / 2 : Radius);
        double width = Conversion * (IsBox ? Width / 2 : Radius);
        double latitudeDelta = height / earthRadius / degreesToRadians;
        double longitudeDeltaTop = width / earthRadius / Math.Cos((Latitude + latitudeDelta) * degreesToRadians) / degreesToRadians;
        double longitudeDeltaBottom = width / earthRadius / Math.Cos((Latitude - latitudeDelta) * degreesToRadians) / degreesToRadians;
        double longitudeDelta = Latitude < 0 ? longitudeDeltaBottom : longitudeDeltaTop;
        return new GeoHash.Area(Longitude - longitudeDelta, Longitude + longitudeDelta, Latitude - latitudeDelta, Latitude + latitudeDelta);
    }
}
