using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.PubSub;

/// <summary>
/// Keyspace notifications compared with redis-server 7.0.15's, message for message: one command sequence per
/// family runs on both servers, under notify-keyspace-events KA, EA, KEAnm, each class letter alone (with K and
/// E) and some combinations, while a client subscribed to <c>__key*__:*</c> on each records what is published.
/// The sequences touch new keys, existing keys, keys emptied by a removal, missing keys (keymiss), expired keys
/// and commands that change nothing.
/// </summary>
[Category("Interop")]
public class KeyspaceEventsDifferentialTests : DifferentialFixture
{
    /// <summary>
    /// One command a line, arguments split at spaces; <c>""</c> is an empty argument and <c>$LAST</c> the last
    /// bulk reply (RESTORE of a DUMP). Expiries use PX 1 and DEBUG SLEEP so that both servers see them pass.
    /// </summary>
    private static readonly Dictionary<string, string> s_families = new()
    {
        ["strings"] = """
        SET s1 1
        SET s1 2 EX 100
        SET s1 3 KEEPTTL
        SET s1 4 NX
        SET s1 5 XX GET
        SET s9 5 XX
        SETNX s2 a
        SETNX s2 b
        SETEX s3 100 v
        PSETEX s4 100000 v
        MSET m1 a m2 b m1 c
        MSETNX m3 a m4 b
        MSETNX m3 a m5 b
        GETSET s2 z
        GETSET new1 z
        GET nosuch
        GET s1
        MGET s1 nosuch s2
        STRLEN nosuch
        GETRANGE nosuch 0 1
        INCR n1
        INCR n1
        DECR n1
        INCRBY n1 5
        DECRBY n1 2
        INCRBYFLOAT f1 1.5
        INCRBYFLOAT f1 2
        INCR s2
        APPEND ap x
        APPEND ap yz
        SETRANGE sr 0 ""
        SETRANGE sr 3 abc
        SETRANGE sr 0 ""
        SETBIT sb 7 1
        SETBIT sb 7 1
        GETBIT nosuch 1
        BITCOUNT nosuch
        BITOP AND bo sb sr
        BITOP OR bo nosuch nosuch2
        BITOP OR bo2 nosuch
        BITPOS nosuch 1
        PFADD h1 a b c
        PFADD h1 a
        PFADD h2
        PFADD h3 x
        PFCOUNT h1
        PFCOUNT h1 h3
        PFMERGE h4 h1 h3
        PFMERGE h4
        SET ex1 v PX 1
        DEBUG SLEEP 0.01
        GET ex1
        SET ex2 v EX 0
        SET ex3 v PXAT 1
        GET ex3
        SUBSTR nosuch 0 1
        """,
        ["lists"] = """
        LPUSH l1 a b c
        RPUSH l1 d
        LPUSHX nol x
        RPUSHX nol x
        LPUSHX l1 x
        RPUSHX l1 y
        LINSERT l1 BEFORE a q
        LINSERT l1 AFTER nothere q
        LINSERT nol BEFORE a q
        LSET l1 0 z
        LRANGE l1 0 -1
        LRANGE nol 0 -1
        LINDEX nol 0
        LLEN nol
        LREM l1 0 q
        LREM l1 0 notthere
        LTRIM l1 0 2
        LTRIM l1 0 -1
        LPOP l1
        RPOP l1
        LPOP l1 5
        LPOP nol
        RPOP nol 2
        RPUSH l2 a b c
        LPOP l2 0
        RPOP l2 2
        RPOP l2 1
        RPUSH l3 a b
        RPOPLPUSH l3 l4
        RPOPLPUSH l3 l4
        RPOPLPUSH l3 l4
        RPOPLPUSH l4 l4
        LMOVE l4 l5 LEFT RIGHT
        LMOVE l4 l5 RIGHT LEFT
        LMOVE l5 l5 LEFT LEFT
        RPUSH l6 a
        LTRIM l6 1 0
        RPUSH l7 a a
        LREM l7 0 a
        RPUSH l8 a b
        LTRIM l8 0 0
        LSET l8 0 b
        BLPOP l8 0
        BRPOP nol 0.01
        BRPOPLPUSH nol x 0.01
        RPUSH l9 a
        BRPOPLPUSH l9 l10 0
        BLMOVE l10 l11 RIGHT LEFT 0
        """,
        ["hashes"] = """
        HSET h1 a 1
        HSET h1 a 2 b 3
        HMSET h1 c 4
        HSETNX h1 a 9
        HSETNX h1 z 9
        HGET nosuch a
        HGET h1 nosuchf
        HMGET nosuch a b
        HGETALL nosuch
        HLEN nosuch
        HEXISTS nosuch a
        HSTRLEN nosuch a
        HKEYS nosuch
        HVALS nosuch
        HDEL h1 nosuchf
        HDEL h1 a b
        HINCRBY h1 n 1
        HINCRBY h2 n 1
        HINCRBYFLOAT h1 f 1.5
        HINCRBYFLOAT h3 f 1.5
        HDEL h1 c z n f
        HDEL h2 n
        HSCAN nosuch 0
        """,
        ["sets"] = """
        SADD s1 a b c
        SADD s1 a
        SADD s2 c d
        SREM s1 x
        SREM s1 a
        SISMEMBER nosuch a
        SCARD nosuch
        SMEMBERS nosuch
        SRANDMEMBER nosuch
        SMOVE s1 s2 b
        SMOVE s1 s3 c
        SMOVE s2 s2 c
        SMOVE nosuch s2 c
        SADD s4 1 2 3 4 5
        SPOP s4
        SPOP s4 0
        SPOP s4 2
        SPOP s4 10
        SPOP nosuch
        SADD s5 a
        SPOP s5
        SADD a1 a b c
        SADD a2 b c d
        SINTERSTORE d1 a1 a2
        SUNIONSTORE d2 a1 a2
        SDIFFSTORE d3 a1 a2
        SINTERSTORE d1 a1 nosuch
        SINTERSTORE d9 a1 nosuch
        SDIFFSTORE d3 a1 a1
        SUNIONSTORE d2 nosuch nosuch2
        SINTER a1 nosuch
        SUNION nosuch
        SDIFF nosuch a1
        SREM a1 a b c
        """,
        ["zsets"] = """
        ZADD z1 1 a 2 b 3 c
        ZADD z1 1 a
        ZADD z1 5 a
        ZADD z1 NX 9 a
        ZADD z1 XX 9 nothere
        ZADD z1 INCR 1 a
        ZADD z1 NX INCR 1 a
        ZINCRBY z1 2 b
        ZINCRBY z2 2 b
        ZADD z1 GT CH 1 a
        ZREM z1 nothere
        ZREM z1 a
        ZSCORE nosuch a
        ZRANK nosuch a
        ZCARD nosuch
        ZRANGE nosuch 0 -1
        ZRANGEBYSCORE nosuch 0 1
        ZCOUNT nosuch 0 1
        ZADD z3 1 a 2 b 3 c 4 d 5 e 0 f 0 g
        ZREMRANGEBYSCORE z3 1 2
        ZREMRANGEBYSCORE z3 100 200
        ZREMRANGEBYRANK z3 0 0
        ZREMRANGEBYLEX z3 - +
        ZADD z4 0 a 0 b
        ZREMRANGEBYLEX z4 [a [a
        ZREMRANGEBYRANK z4 0 -1
        ZADD u1 1 a 2 b
        ZADD u2 1 b 3 c
        ZUNIONSTORE zd1 2 u1 u2
        ZINTERSTORE zd2 2 u1 u2
        ZINTERSTORE zd2 2 u1 nosuch
        ZINTERSTORE zd9 2 u1 nosuch
        ZUNIONSTORE zd3 1 nosuch
        ZPOPMIN u1
        ZPOPMAX u1 5
        ZPOPMIN nosuch
        ZPOPMAX u2 0
        ZADD z5 1 a
        ZREM z5 a
        ZRANGEBYLEX nosuch - +
        ZSCAN nosuch 0
        """,
        ["generic"] = """
        SET k1 v
        SET k2 v
        DEL k1 nosuch k2
        SET k1 v
        UNLINK k1 nosuch
        SET k1 v
        EXPIRE k1 100
        PEXPIRE k1 100000
        EXPIREAT k1 99999999999
        PEXPIREAT k1 99999999999999
        EXPIRE nosuch 100
        PERSIST k1
        PERSIST k1
        PERSIST nosuch
        EXPIRE k1 -1
        SET k1 v
        PEXPIREAT k1 1
        SET k1 v
        EXPIRE k1 100 NX
        EXPIRE k1 100 NX
        EXPIRE k1 50 GT
        EXPIRE k1 200 GT
        EXISTS nosuch
        TYPE nosuch
        TTL nosuch
        PTTL nosuch
        OBJECT ENCODING nosuch
        RENAME k1 k2
        SET k3 x
        RENAME k2 k3
        RENAME k3 k3
        RENAMENX k3 k4
        SET k5 v
        RENAMENX k4 k5
        RENAME nosuch k9
        MOVE k5 1
        SET k6 v
        SELECT 1
        SET k6 w
        SELECT 0
        MOVE k6 1
        MOVE nosuch 1
        DUMP nosuch
        SET k7 hello
        DUMP k7
        RESTORE k8 0 $LAST
        RESTORE k7 0 $LAST REPLACE
        RESTORE k7 0 $LAST REPLACE PX 1
        RPUSH sl 3 1 2
        SORT sl STORE sd
        SORT nosuch STORE sd
        SORT sl STORE sd2 LIMIT 0 0
        SORT nosuch
        SET e1 v PX 1
        DEBUG SLEEP 0.01
        EXISTS e1
        SET e2 v PX 1
        DEBUG SLEEP 0.01
        TYPE e2
        SET e3 v PX 1
        DEBUG SLEEP 0.01
        RENAME e3 e4
        SET e5 v PX 1
        DEBUG SLEEP 0.01
        SET e5 x
        KEYS *
        RANDOMKEY
        SCAN 0
        FLUSHDB
        """,
        ["redis7"] = """
        SET g1 v
        COPY g1 g2
        COPY g1 g2 REPLACE
        COPY g1 g9 DB 1
        COPY nosuch g3
        GETDEL g2
        GETDEL g2
        SET g4 v
        GETEX g4 EX 100
        GETEX g4 PERSIST
        GETEX g4 PERSIST
        GETEX g4 PXAT 1
        GETEX nosuch EX 10
        SWAPDB 0 1
        SWAPDB 0 1
        TOUCH g1 nosuch
        RPUSH l1 a b c
        LMPOP 1 l1 LEFT COUNT 2
        LMPOP 2 nosuch l1 RIGHT COUNT 5
        BLMPOP 0.01 1 l1 LEFT
        ZADD z1 1 a 2 b 3 c
        ZMPOP 1 z1 MIN
        BZPOPMAX z1 0
        BZMPOP 0 1 z1 MIN COUNT 9
        ZADD z2 1 a 2 b
        ZRANGESTORE z3 z2 0 -1
        ZRANGESTORE z3 nosuch 0 -1
        ZDIFFSTORE z4 1 z2
        ZDIFFSTORE z4 2 z2 z2
        ZUNION 1 z2
        ZINTERCARD 1 z2
        HSET h a 1
        HRANDFIELD h
        SADD s a
        SINTERCARD 1 s
        SMISMEMBER s a
        BITFIELD bf SET u8 0 1 GET u8 0
        BITFIELD bf GET u8 0
        BITFIELD bf OVERFLOW FAIL INCRBY u8 0 300
        LCS g1 g1
        LPOS nosuch a
        FLUSHALL
        """,
        ["geo"] = """
        GEOADD geo 13.361389 38.115556 Palermo 15.087269 37.502669 Catania
        GEOADD geo 13.361389 38.115556 Palermo
        GEOADD geo NX 1 1 Palermo
        GEOADD geo XX CH 13.5 38 Palermo 1 1 nosuch
        GEOADD geo 200 1 bad
        GEOPOS geo Palermo nosuch
        GEOPOS nosuch a
        GEODIST geo Palermo Catania km
        GEODIST nosuch a b
        GEOHASH geo Palermo
        GEORADIUS geo 15 37 200 km
        GEORADIUS geo 15 37 200 km STORE gr1
        GEORADIUS geo 15 37 1 m STORE gr1
        GEORADIUS geo 15 37 1 m STORE gr1
        GEORADIUSBYMEMBER geo Palermo 300 km STOREDIST gr2
        GEORADIUSBYMEMBER nosuch Palermo 300 km STORE gr2
        GEORADIUS_RO geo 15 37 200 km
        GEOSEARCH geo FROMMEMBER Palermo BYBOX 400 400 km
        GEOSEARCH nosuch FROMLONLAT 0 0 BYRADIUS 1 km
        GEOSEARCHSTORE gs1 geo FROMLONLAT 15 37 BYRADIUS 200 km
        GEOSEARCHSTORE gs1 geo FROMLONLAT 15 37 BYRADIUS 200 km STOREDIST
        GEOSEARCHSTORE gs1 nosuch FROMLONLAT 15 37 BYRADIUS 200 km
        SET gs2 v
        GEOSEARCHSTORE gs2 geo FROMLONLAT 15 37 BYRADIUS 200 km
        FLUSHALL
        """,
    };

    private static readonly string[] s_flags =
    {
        "KA", "EA", "KEAnm", "KEg", "KE$", "KEl", "KEs", "KEh", "KEz", "KEx", "KEe", "KEt", "KEm", "KEn", "KEd",
        "Kgl", "E$shz", "Am", "g",
    };

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (var family in s_families.Keys)
        {
            foreach (var flags in s_flags)
                yield return new TestCaseData(family, flags).SetName($"{family} under '{flags}'");
        }
    }

    protected override string[] ServerArgs => ["--enable-debug-command", "yes"];

    [TestCaseSource(nameof(Cases))]
    public void EventsMatchRedis(string family, string flags)
    {
        var expected = Events(_redis, s_families[family], flags);
        var actual = Events(_psyncd, s_families[family], flags);
        Assert.That(actual, Is.EqualTo(expected));
        if (flags is "KEAnm" or "KA" or "EA")
            Assert.That(expected, Is.Not.Empty, "the sequence publishes something");
    }

    /// <summary>CONFIG SET then GET: Redis keeps the classes, not the text, and writes them back in its own order.</summary>
    [Test]
    public void ConfigGetShowsTheClassesAsRedisWritesThem()
    {
        string[] inputs =
        {
            "KA", "EA", "", "g", "K", "E", "KEA", "AK", "Kg$lshzxetd", "Kgg", "KEmn", "KEAmn", "Em", "En", "x", "Ex",
            "lK", "KEt", "KEd", "Kglshzxe$", "nA", "Z", "KE?", "A", "AKEm",
        };
        using var redis = _redis.Connect();
        using var psyncd = _psyncd.Connect();
        foreach (var input in inputs)
        {
            string Round(RawClient c) => c.Command("CONFIG", "SET", "notify-keyspace-events", input) + c.Command("CONFIG", "GET", "notify-keyspace-events");
            Assert.That(Round(psyncd), Is.EqualTo(Round(redis)), input);
        }
        redis.Command("CONFIG", "SET", "notify-keyspace-events", "");
        psyncd.Command("CONFIG", "SET", "notify-keyspace-events", "");
    }

    [Test]
    public void BlockedClientsServedByAPushPublishThePopAsRedisDoes()
    {
        const string flags = "KEAn";
        Assert.That(BlockedEvents(_psyncd, flags), Is.EqualTo(BlockedEvents(_redis, flags)));
    }

    /// <summary>A client blocked in BLPOP and one in BRPOPLPUSH, served by pushes of another client.</summary>
    private static List<string> BlockedEvents(ServerProcess server, string flags)
    {
        using var c = server.Connect();
        using var blpop = server.Connect();
        using var brpoplpush = server.Connect();
        using var subscriber = Subscribe(server, c, flags);
        blpop.Send("BLPOP", "kev:b1", "0");
        brpoplpush.Send("BRPOPLPUSH", "kev:b2", "kev:b3", "0");
        Eventually.True(() => c.Command("INFO", "clients").Contains("blocked_clients:2"), TimeSpan.FromSeconds(10), "both clients blocked");
        c.Command("RPUSH", "kev:b1", "x", "y");
        Assert.That(blpop.ReadReply(), Is.EqualTo("*2\r\n$6\r\nkev:b1\r\n$1\r\nx\r\n"));
        c.Command("LPUSH", "kev:b2", "z");
        Assert.That(brpoplpush.ReadReply(), Is.EqualTo("$1\r\nz\r\n"));
        return Collect(c, subscriber);
    }

    private static List<string> Events(ServerProcess server, string sequence, string flags)
    {
        using var c = server.Connect();
        using var subscriber = Subscribe(server, c, flags);
        string? last = null;
        foreach (var line in sequence.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var args = line.Split(' ').Select(a => a == "\"\"" ? "" : a == "$LAST" ? last! : a).ToArray();
            if (c.Call(args) is string bulk)
                last = bulk;
        }
        return Collect(c, subscriber);
    }

    /// <summary>An empty keyspace on <paramref name="server"/> under <paramref name="flags"/>, and a client subscribed to every keyspace channel.</summary>
    private static RawClient Subscribe(ServerProcess server, RawClient c, string flags)
    {
        Assert.That(c.Command("FLUSHALL"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("CONFIG", "SET", "notify-keyspace-events", flags), Is.EqualTo("+OK\r\n"));
        var subscriber = server.Connect();
        Assert.That(subscriber.Command("PSUBSCRIBE", "__key*__:*"), Is.EqualTo("*3\r\n$10\r\npsubscribe\r\n$10\r\n__key*__:*\r\n:1\r\n"));
        Assert.That(subscriber.Command("SUBSCRIBE", "kev:end"), Is.EqualTo("*3\r\n$9\r\nsubscribe\r\n$7\r\nkev:end\r\n:2\r\n"));
        return subscriber;
    }

    /// <summary>The messages published before the end marker, as "channel message".</summary>
    private static List<string> Collect(RawClient c, RawClient subscriber)
    {
        c.Command("PUBLISH", "kev:end", "end");
        var events = new List<string>();
        while (true)
        {
            var message = (object?[])subscriber.ReadValue()!;
            if ((string)message[0]! == "message")
                return events;
            events.Add(message[2] + " " + message[3]);
        }
    }
}
