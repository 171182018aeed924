using System.Globalization;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Commands;

/// <summary>
/// The geo commands against redis-server 7.0.15, byte for byte: a script of every command, option and error
/// (RESP2 and RESP3), a fixed-seed randomized comparison of searches over a few thousand points (radii, boxes,
/// units, COUNT with and without ANY, both orders, members at the same position, poles and the antimeridian),
/// the replication stream the writes produce, and replicas in both directions holding the same data.
/// </summary>
[Category("Interop")]
public class GeoDifferentialTests : DifferentialFixture
{
    private const string Script = """
        GEOADD Sicily 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
        ZRANGE Sicily 0 -1 WITHSCORES
        GEOADD Sicily 13.361389 38.115556 Palermo
        GEOADD Sicily NX CH 13.361389 38.115556 Palermo 1 1 x
        GEOADD Sicily XX CH 13.461389 38.115556 Palermo 2 2 y
        GEOADD Sicily ch 13.361389 38.115556 Palermo
        GEOADD Sicily 200 100 x
        GEOADD Sicily 200 1e400 x
        GEOADD Sicily inf 1 x
        GEOADD Sicily -inf 1 x
        GEOADD Sicily 1e300 1 x
        GEOADD Sicily 1 85.06 x
        GEOADD Sicily 1 -0.0000001e-300 x
        GEOADD Sicily nan 1 x
        GEOADD Sicily abc 1 x
        GEOADD Sicily 1 2
        GEOADD Sicily xx nx 1 2 x
        GEOADD Sicily ch ch ch
        GEOADD Sicily GT 1 2 x
        GEOADD Sicily 1 2 x 3
        GEOADD
        GEOADD edge 180 85.05112878 ne -180 -85.05112878 sw 0 0 zero -0 -0 negzero 179.99999999 0 east
        GEOPOS edge ne sw zero negzero east
        GEOHASH edge ne sw zero negzero east
        GEODIST edge ne sw
        GEODIST edge ne sw KM
        GEODIST edge zero east mi
        GEODIST edge zero east ft
        GEODIST edge zero zero
        GEOPOS Sicily Palermo nope
        GEOPOS nokey a b
        GEODIST Sicily Palermo Catania km
        GEODIST Sicily Palermo Catania furlong
        GEODIST Sicily Palermo Catania km extra
        GEODIST Sicily Palermo x
        GEODIST nokey a b
        GEODIST nokey a b parsec
        GEOHASH Sicily Palermo Catania x
        GEOHASH nokey a
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km ASC WITHCOORD WITHDIST WITHHASH
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km DESC WITHHASH
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1 ANY
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 200 km COUNT 1 ANY DESC
        GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 400 400 km WITHDIST
        GEOSEARCH Sicily FROMMEMBER Palermo BYBOX 400 400 km WITHDIST WITHCOORD COUNT 5 DESC
        GEOSEARCH Sicily FROMMEMBER nope BYBOX 400 400 km
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 0 0 km
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 0 km
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX -1 2 km
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX a 2 km
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 b km
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 lightyear
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km BYRADIUS 1 km
        GEOSEARCH Sicily FROMLONLAT 15 37 BYRADIUS 1 km BYBOX 1 1 km
        GEOSEARCH Sicily FROMLONLAT 15 37 FROMMEMBER Palermo BYBOX 1 1 km
        GEOSEARCH Sicily FROMMEMBER Palermo FROMLONLAT 15 37 BYBOX 1 1 km
        GEOSEARCH Sicily FROMLONLAT 15 137 BYBOX 1 1 km
        GEOSEARCH Sicily FROMLONLAT x 37 BYBOX 1 1 km
        GEOSEARCH Sicily BYBOX 1 1 km
        GEOSEARCH Sicily FROMLONLAT 15 37
        GEOSEARCH Sicily FROMLONLAT 15 37 WITHDIST WITHDIST
        GEOSEARCH Sicily BYRADIUS 15 km WITHDIST WITHDIST
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km ANY
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km COUNT 0
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km COUNT -3
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km COUNT x
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km COUNT
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km STORE x
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km STOREDIST
        GEOSEARCH Sicily FROMLONLAT 15 37 BYBOX 1 1 km bogus
        geosearch Sicily FROMLONLAT 15 37 WITHDIST WITHHASH
        GEOSEARCH nokey FROMMEMBER nope BYRADIUS 1 km
        GEOSEARCH nokey FROMMEMBER nope BYRADIUS x km
        GEORADIUS Sicily 15 37 200 km ASC COUNT 0
        GEORADIUS Sicily 15 37 200 KM ASC COUNT 1 STORE
        GEORADIUS Sicily 15 37 200 mm
        GEORADIUS Sicily 15 37 -1 m
        GEORADIUS Sicily 15 37 abc m
        GEORADIUS Sicily 15 370 1 m
        GEORADIUS Sicily 15 37 200 km WITHDIST WITHCOORD WITHHASH
        GEORADIUS Sicily 15 37 200 km FROMLONLAT 1 2
        GEORADIUS Sicily 15 37 200 km STORE x WITHDIST
        GEORADIUS Sicily 15 37 200 km STOREDIST x WITHHASH
        GEORADIUS_RO Sicily 15 37 200 km STORE x
        GEORADIUS_RO Sicily 15 37 200 km WITHDIST
        GEORADIUSBYMEMBER Sicily Palermo 200 km WITHDIST DESC
        GEORADIUSBYMEMBER Sicily nope 1 km
        GEORADIUSBYMEMBER nokey nope 1 km
        GEORADIUSBYMEMBER nokey nope x km
        GEORADIUSBYMEMBER nokey nope 1 km STORE dst
        GEORADIUSBYMEMBER_RO Sicily Palermo 200 km COUNT 1
        GEORADIUSBYMEMBER_RO Sicily Palermo 200 km STOREDIST x
        GEORADIUS Sicily 15 37 200 km STORE dst
        ZRANGE dst 0 -1 WITHSCORES
        GEORADIUS Sicily 15 37 200 km STOREDIST dst2 COUNT 1
        ZRANGE dst2 0 -1 WITHSCORES
        GEORADIUS Sicily 15 37 1 m STORE dst2
        EXISTS dst2
        GEOSEARCHSTORE dst3 Sicily FROMMEMBER Palermo BYBOX 500 500 km DESC STOREDIST
        ZRANGE dst3 0 -1 WITHSCORES
        GEOSEARCHSTORE dst3 Sicily FROMMEMBER Palermo BYBOX 500 500 km WITHDIST
        GEOSEARCHSTORE dst3 Sicily FROMMEMBER Palermo BYBOX 500 500 km STORE x
        GEOSEARCHSTORE dst3 nokey FROMMEMBER Palermo BYBOX 500 500 km DESC STOREDIST
        EXISTS dst3
        EXPIRE dst 100
        GEOSEARCHSTORE dst Sicily FROMLONLAT 15 37 BYRADIUS 1000 km
        TTL dst
        SET str x
        GEOSEARCHSTORE str Sicily FROMLONLAT 15 37 BYRADIUS 1000 km
        TYPE str
        GEOPOS str a
        GEOHASH str a
        GEODIST str a b
        GEOADD str 1 1 a
        GEOSEARCH str FROMLONLAT 0 0 BYRADIUS 1 m
        GEOSEARCHSTORE dst str FROMLONLAT 0 0 BYRADIUS 1 m
        GEORADIUSBYMEMBER str a 1 km
        ZADD weird -5 a 1e20 b inf d 4503599627370496 e -inf f 0.5 g
        GEOPOS weird a b d e f g
        GEOHASH weird a b d e f g
        GEODIST weird a b
        GEOSEARCH weird FROMLONLAT 0 0 BYRADIUS 40000 km WITHHASH WITHCOORD
        GEOADD same 10 10 a 10 10 b 10 10 c 10 10 d 10 10 e 10 10 f 10 10 g 10 10 h 10.001 10 i
        GEOSEARCH same FROMLONLAT 10 10 BYRADIUS 1 km ASC
        GEOSEARCH same FROMLONLAT 10 10 BYRADIUS 1 km DESC
        GEOSEARCH same FROMLONLAT 10 10 BYRADIUS 1 km ASC COUNT 3
        GEOSEARCH same FROMLONLAT 10 10 BYRADIUS 1 km DESC COUNT 3
        GEOSEARCH same FROMLONLAT 10.001 10 BYRADIUS 1 km COUNT 8 WITHDIST
        GEOSEARCH same FROMLONLAT 10 10 BYRADIUS 1 km COUNT 2 ANY
        """;

    [TestCase(2)]
    [TestCase(3)]
    public void ScriptedRepliesMatchRedis(int protocol)
    {
        using var r = _redis.Connect();
        using var p = _psyncd.Connect();
        if (protocol == 3)
        {
            r.Command("HELLO", "3");
            p.Command("HELLO", "3");
        }
        r.Command("SELECT", "9");
        p.Command("SELECT", "9");
        foreach (var line in Script.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).Prepend("FLUSHDB"))
        {
            var args = Redis7Scripts.Split(line);
            Assert.That(p.Command(args), Is.EqualTo(r.Command(args)), "after: " + line);
        }
    }

    /// <summary>
    /// A fixed-seed comparison: clusters of points around random centers and the awkward places (the
    /// antimeridian, near both poles' limits, the origin), a tenth of them doubled at the same position, then
    /// thousands of searches of every form; each reply, and each stored result, the same bytes.
    /// </summary>
    [Test]
    public void RandomizedSearchesMatchRedis()
    {
        var rnd = new Random(20261201);
        using var r = _redis.Connect();
        using var p = _psyncd.Connect();
        using var r3 = _redis.Connect();
        using var p3 = _psyncd.Connect();
        r3.Command("HELLO", "3");
        p3.Command("HELLO", "3");
        foreach (var c in new[] { r, p, r3, p3 })
            c.Command("SELECT", "10");
        r.Command("FLUSHDB");
        p.Command("FLUSHDB");
        int compared = 0;
        void Both(RawClient redis, RawClient psyncd, params string[] args)
        {
            Assert.That(psyncd.Command(args), Is.EqualTo(redis.Command(args)), string.Join(" ", args));
            compared++;
        }

        static string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
        var centers = new List<(double Lon, double Lat)>();
        for (int i = 0; i < 8; i++)
            centers.Add((rnd.NextDouble() * 360 - 180, rnd.NextDouble() * 170 - 85));
        centers.AddRange([(179.9, 10), (-179.95, -20), (0, 84.9), (10, -84.99), (0, 0)]);
        int members = 0;
        foreach (var (lon, lat) in centers)
        {
            for (int i = 0; i < 120; i++)
            {
                double spread = new[] { 0.01, 0.5, 5 }[rnd.Next(3)];
                double x = Math.Clamp(lon + Gauss(rnd) * spread, -180, 180);
                double y = Math.Clamp(lat + Gauss(rnd) * spread, -85.05112878, 85.05112878);
                Both(r, p, "GEOADD", "g", F(x), F(y), "m" + members++);
                if (rnd.NextDouble() < 0.1)
                    Both(r, p, "GEOADD", "g", F(x), F(y), "m" + members++);
            }
        }
        // A small set too (the compact encoding in redis-server: the same order must come out of it).
        for (int i = 0; i < 40; i++)
            Both(r, p, "GEOADD", "small", F(rnd.NextDouble() * 2), F(rnd.NextDouble() * 2), "s" + i);

        string[] units = ["m", "km", "ft", "mi", "KM"];
        double[] scales = [1, 1000, 0.3048, 1609.34, 1000];
        double[] radii = [10, 1000, 50000, 300000, 2000000, 8000000];
        for (int q = 0; q < 2500; q++)
        {
            bool small = q % 10 == 9;
            string key = small ? "small" : "g";
            var (clon, clat) = small ? (1.0, 1.0) : centers[rnd.Next(centers.Count)];
            double lon = Math.Clamp(clon + Gauss(rnd) * 2, -180, 180), lat = Math.Clamp(clat + Gauss(rnd) * 2, -85.05112878, 85.05112878);
            int u = rnd.Next(units.Length);
            double radius = radii[rnd.Next(radii.Length)] * rnd.NextDouble() / scales[u];
            string member = small ? "s" + rnd.Next(40) : "m" + rnd.Next(members);
            var options = new List<string>();
            foreach (var o in new[] { "WITHDIST", "WITHHASH", "WITHCOORD" })
            {
                if (rnd.NextDouble() < 0.4)
                    options.Add(o);
            }
            double s = rnd.NextDouble();
            if (s < 0.33)
                options.Add("ASC");
            else if (s < 0.66)
                options.Add("DESC");
            if (rnd.NextDouble() < 0.5)
            {
                options.AddRange(["COUNT", new[] { 1, 2, 3, 5, 10, 50, 200 }[rnd.Next(7)].ToString(CultureInfo.InvariantCulture)]);
                if (rnd.NextDouble() < 0.3)
                    options.Add("ANY");
            }
            var from = rnd.NextDouble() < 0.5 ? new[] { "FROMMEMBER", member } : new[] { "FROMLONLAT", F(lon), F(lat) };
            var by = rnd.NextDouble() < 0.5
                ? new[] { "BYRADIUS", F(radius), units[u] }
                : new[] { "BYBOX", F(radius * (0.2 + rnd.NextDouble() * 3)), F(radius * (0.2 + rnd.NextDouble() * 3)), units[u] };
            string[] command = rnd.Next(5) switch
            {
                0 => ["GEORADIUS", key, F(lon), F(lat), F(radius), units[u], .. options],
                1 => ["GEORADIUSBYMEMBER", key, member, F(radius), units[u], .. options],
                2 => ["GEOSEARCHSTORE", "dst", key, .. from, .. by, .. options.Where(o => !o.StartsWith("WITH")), .. (rnd.Next(2) == 0 ? new[] { "STOREDIST" } : [])],
                _ => ["GEOSEARCH", key, .. from, .. by, .. options],
            };
            if (q % 4 == 3)
                Both(r3, p3, command);
            else
                Both(r, p, command);
            if (command[0] == "GEOSEARCHSTORE")
                Both(r, p, "ZRANGE", "dst", "0", "-1", "WITHSCORES");
            if (q % 10 == 0)
            {
                string m1 = "m" + rnd.Next(members), m2 = "m" + rnd.Next(members);
                Both(r, p, "GEODIST", "g", m1, m2, units[u]);
                Both(r3, p3, "GEOPOS", "g", m1, m2);
                Both(r, p, "GEOHASH", "g", m1, m2);
            }
        }
        Assert.That(compared, Is.GreaterThan(4000));
        r.Command("FLUSHDB");
        p.Command("FLUSHDB");
    }

    private static double Gauss(Random rnd) => Math.Sqrt(-2 * Math.Log(1 - rnd.NextDouble())) * Math.Cos(2 * Math.PI * rnd.NextDouble());

    private static readonly string[][] s_writes =
    {
        ["GEOADD", "pg", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669", "Catania"],
        ["GEOADD", "pg", "13.361389", "38.115556", "Palermo"],
        ["GEOADD", "pg", "NX", "CH", "13.361389", "38.115556", "Palermo", "1", "1", "x"],
        ["GEOADD", "pg", "XX", "CH", "13.461389", "38.115556", "Palermo", "2", "2", "y"],
        ["GEOADD", "pg", "200", "1", "bad"],
        ["GEORADIUS", "pg", "15", "37", "200", "km"],
        ["GEORADIUS", "pg", "15", "37", "200", "km", "STORE", "pdst"],
        ["GEORADIUSBYMEMBER", "pg", "Palermo", "200", "km", "STOREDIST", "pdst2"],
        ["GEOSEARCHSTORE", "pdst3", "pg", "FROMLONLAT", "15", "37", "BYRADIUS", "200", "km", "STOREDIST"],
        ["GEOSEARCHSTORE", "pdst3", "pg", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"],
        ["GEOSEARCHSTORE", "pdst3", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"],
        ["GEOSEARCHSTORE", "pdst", "nokey", "FROMLONLAT", "15", "37", "BYRADIUS", "1", "m"],
        ["GEORADIUS", "pg", "15", "37", "200", "km", "STORE", "pdst", "COUNT", "1"],
        ["GEOSEARCH", "pg", "FROMMEMBER", "x", "BYBOX", "1", "1", "km"],
    };

    /// <summary>GEOADD goes out as the ZADD it ran (scores, not positions); the stores go out as requested.</summary>
    [Test]
    public void StreamCarriesWhatRedisPropagates()
    {
        using var redis = ServerProcess.StartRedis();
        using var psyncd = ServerProcess.StartPsyncd();
        string expected = StreamTap.Capture(redis, s_writes);
        Assert.That(expected, Does.Contain("$4\r\nzadd\r\n").And.Contain("GEORADIUS"));
        Assert.That(StreamTap.Capture(psyncd, s_writes), Is.EqualTo(expected));
    }

    /// <summary>A redis-server replica of psyncd, and a psyncd replica of redis-server, end with their master's data.</summary>
    [Test]
    public void ReplicasInBothDirectionsHoldTheMastersGeoSets()
    {
        foreach (var (master, replica) in new[]
        {
            (ServerProcess.StartPsyncd(), (Func<int, ServerProcess>)(port => ServerProcess.StartRedis("--replicaof", "127.0.0.1", port.ToString()))),
            (ServerProcess.StartRedis(), port => ServerProcess.StartPsyncd("--replicaof", "127.0.0.1", port.ToString())),
        })
        {
            using (master)
            using (var r = replica(master.Port))
            {
                ReplicationWatch.WaitForSync(master.Port, r.Port);
                using (var client = master.Connect())
                {
                    foreach (var command in s_writes)
                        client.Command(command);
                }
                ReplicationWatch.WaitForSync(master.Port, r.Port);
                string expected = DatasetText.Describe(master.Port);
                Assert.That(expected, Does.Contain("pdst2"));
                Assert.That(DatasetText.Describe(r.Port), Is.EqualTo(expected), master.Name);
            }
        }
    }
}
