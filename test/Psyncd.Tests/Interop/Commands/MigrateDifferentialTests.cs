using System.Net;
using System.Net.Sockets;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Commands;

/// <summary>
/// MIGRATE and RESTORE-ASKING against redis-server 7.0.15: the same requests from a psyncd and from a
/// redis-server source to the same targets (a redis-server and a psyncd, both with a password) give the same
/// replies and leave the same data on both sides; the source's stream carries the same DELs; a target that
/// never answers gives the same timeout error and keeps the key.
/// </summary>
[Category("Interop")]
public class MigrateDifferentialTests : DifferentialFixture
{
    private ServerProcess _redisTarget = null!;
    private ServerProcess _psyncdTarget = null!;

    [OneTimeSetUp]
    public void StartTargets()
    {
        _redisTarget = ServerProcess.StartRedis("--requirepass", "pw");
        _psyncdTarget = ServerProcess.StartPsyncd("--requirepass", "pw");
    }

    [OneTimeTearDown]
    public void StopTargets()
    {
        _redisTarget?.Dispose();
        _psyncdTarget?.Dispose();
    }

    /// <summary>The requests, with <c>$T</c> for the target's port and <c>$CLOSED</c> for a port nobody listens on.</summary>
    private const string Script = """
        SET mk v
        RPUSH ml a b c
        SET mt v EX 1000
        HSET mh f v g w
        ZADD mz 1 a 2 b
        SADD ms x y z
        SET mc v
        MIGRATE 127.0.0.1 $T mk x 300
        MIGRATE 127.0.0.1 $T mk 0 x
        MIGRATE 127.0.0.1 $T mk 0 0 KEYS a
        MIGRATE 127.0.0.1 $T mk 0 0 AUTH
        MIGRATE 127.0.0.1 $T mk 0 0 AUTH2 a
        MIGRATE 127.0.0.1 $T mk 0 0 BOGUS
        MIGRATE 127.0.0.1 $T nokey 0 0
        MIGRATE 127.0.0.1 $T "" 0 0 KEYS nokey1 nokey2
        MIGRATE 127.0.0.1 $T "" 0 0
        MIGRATE 127.0.0.1 $CLOSED mk 0 1000
        MIGRATE nosuchhost.invalid 6379 mk 0 1000
        MIGRATE 127.0.0.1 $T mk 0 1000
        MIGRATE 127.0.0.1 $T mk 0 1000 AUTH wrong
        MIGRATE 127.0.0.1 $T mk 0 1000 AUTH2 default wrong
        MIGRATE 127.0.0.1 $T mc 3 1000 AUTH pw COPY
        MIGRATE 127.0.0.1 $T mc 3 1000 AUTH pw COPY
        MIGRATE 127.0.0.1 $T mc 3 0 AUTH2 default pw COPY REPLACE
        EXISTS mc
        MIGRATE 127.0.0.1 $T mk 3 1000 AUTH pw
        EXISTS mk
        MIGRATE 127.0.0.1 $T "" 4 1000 AUTH pw KEYS ml mt nokey mh
        MIGRATE 127.0.0.1 $T "" 4 1000 AUTH pw REPLACE KEYS mz ms
        EXISTS ml mt mh mz ms
        SET mk v2
        SET mx v
        MIGRATE 127.0.0.1 $T "" 3 1000 AUTH pw KEYS mx mk
        EXISTS mx mk
        MIGRATE 127.0.0.1 $T mk 3 1000 AUTH pw REPLACE
        DBSIZE
        """;

    private static List<string[]> Requests(int target, int closed) => Script.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0)
        .Select(l => Redis7Scripts.Split(l.Replace("$T", target.ToString()).Replace("$CLOSED", closed.ToString()))).ToList();

    [Test]
    public void RepliesAndDataMatchRedisForBothTargets()
    {
        int closed = FreePort.Next();
        foreach (var target in new[] { _redisTarget, _psyncdTarget })
        {
            var transcripts = new List<string>();
            var targetData = new List<string>();
            foreach (var source in new[] { _redis, _psyncd })
            {
                using var t = target.Connect();
                t.Command("AUTH", "pw");
                t.Command("FLUSHALL");
                using var c = source.Connect();
                c.Command("FLUSHALL");
                var transcript = new System.Text.StringBuilder();
                foreach (var request in Requests(target.Port, closed))
                    transcript.Append(string.Join(' ', request)).Append(" -> ").Append(c.Command(request));
                transcripts.Add(transcript.ToString());
                targetData.Add(DescribeWithPassword(target));
            }
            Assert.That(transcripts[1], Is.EqualTo(transcripts[0]), "replies, target " + target.Name);
            Assert.That(targetData[1], Is.EqualTo(targetData[0]), "the target's data, target " + target.Name);
            Assert.That(targetData[0], Does.Contain("mz"));
        }
    }

    private static string DescribeWithPassword(ServerProcess target)
    {
        // The targets have a password, which DatasetText does not give: each database's keys, values and whether
        // they have a TTL, read over an authenticated client.
        using var t = target.Connect();
        t.Command("AUTH", "pw");
        var text = new System.Text.StringBuilder();
        for (int db = 0; db < 16; db++)
        {
            t.Command("SELECT", db.ToString());
            var keys = ((object?[])t.Call("KEYS", "*")!).Select(k => (string)k!).Order(StringComparer.Ordinal);
            foreach (var key in keys)
            {
                string type = (string)t.Call("TYPE", key)!;
                string value = type switch
                {
                    "string" => t.Command("GET", key),
                    "list" => t.Command("LRANGE", key, "0", "-1"),
                    "hash" => string.Join(",", ((object?[])t.Call("HGETALL", key)!).Chunk(2).Select(p => p[0] + "=" + p[1]).Order(StringComparer.Ordinal)),
                    "set" => string.Join(",", ((object?[])t.Call("SMEMBERS", key)!).Select(m => (string)m!).Order(StringComparer.Ordinal)),
                    "zset" => t.Command("ZRANGE", key, "0", "-1", "WITHSCORES"),
                    _ => type,
                };
                long ttl = (long)t.Call("TTL", key)!;
                text.Append(db).Append(' ').Append(key).Append(' ').Append(type).Append(' ').Append(value)
                    .Append(ttl > 0 ? " ttl" : " persistent").Append('\n');
            }
        }
        return text.ToString();
    }

    /// <summary>Without COPY the migrated keys leave the source as one DEL of the keys the target acknowledged.</summary>
    [Test]
    public void TheSourcesStreamCarriesTheDelsRedisPropagates()
    {
        using var target = ServerProcess.StartRedis("--requirepass", "pw");
        var requests = new[]
        {
            new[] { "SET", "sk", "v" },
            ["RPUSH", "sl", "a", "b"],
            ["SET", "sc", "v"],
            ["MIGRATE", "127.0.0.1", target.Port.ToString(), "sc", "0", "1000", "AUTH", "pw", "COPY"],
            ["MIGRATE", "127.0.0.1", target.Port.ToString(), "sk", "0", "1000", "AUTH", "pw"],
            ["MIGRATE", "127.0.0.1", target.Port.ToString(), "", "5", "1000", "AUTH", "pw", "KEYS", "sl", "nokey"],
            ["SET", "sk", "v"],
            ["SET", "sx", "v"],
            ["MIGRATE", "127.0.0.1", target.Port.ToString(), "", "0", "1000", "AUTH", "pw", "KEYS", "sx", "sk"],
        };
        string StreamOf(ServerProcess source)
        {
            using (var t = target.Connect())
            {
                t.Command("AUTH", "pw");
                t.Command("FLUSHALL");
            }
            return StreamTap.Capture(source, requests.Prepend(new[] { "FLUSHALL" }));
        }
        string expected = StreamOf(_redis);
        Assert.That(expected, Does.Contain("*2\r\n$3\r\nDEL\r\n$2\r\nsl\r\n"));
        Assert.That(StreamOf(_psyncd), Is.EqualTo(expected));
    }

    /// <summary>MIGRATE between two psyncd servers, and from psyncd to redis-server and back: values and TTLs arrive.</summary>
    [Test]
    public void KeysTravelBetweenPsyncdAndRedisBothWays()
    {
        using var a = ServerProcess.StartPsyncd();
        using var b = ServerProcess.StartPsyncd();
        using var ca = a.Connect();
        ca.Command("SET", "tk", "v", "EX", "1000");
        ca.Command("ZADD", "tz", "1.5", "x", "2", "y");
        ca.Command("HSET", "th", "f", "v");
        Assert.That(ca.Command("MIGRATE", "127.0.0.1", b.Port.ToString(), "", "2", "5000", "KEYS", "tk", "tz", "th"), Is.EqualTo("+OK\r\n"));
        string onB = DatasetText.Describe(b.Port);
        Assert.That(DatasetText.Describe(a.Port), Does.Not.Contain("tk"));
        Assert.That(onB, Does.Contain("tk").And.Contain("tz").And.Contain("th"));

        using var cb = b.Connect();
        cb.Command("SELECT", "2");
        Assert.That(cb.Command("MIGRATE", "127.0.0.1", _redis.Port.ToString(), "", "2", "5000", "REPLACE", "KEYS", "tk", "tz", "th"), Is.EqualTo("+OK\r\n"));
        using (var r = _redis.Connect())
        {
            r.Command("SELECT", "2");
            Assert.That(r.Command("ZRANGE", "tz", "0", "-1", "WITHSCORES"), Is.EqualTo("*4\r\n$1\r\nx\r\n$3\r\n1.5\r\n$1\r\ny\r\n$1\r\n2\r\n"));
            Assert.That(long.Parse(r.Command("TTL", "tk")[1..^2]), Is.InRange(990, 1000));
            Assert.That(r.Command("MIGRATE", "127.0.0.1", a.Port.ToString(), "", "2", "5000", "KEYS", "tk", "tz", "th"), Is.EqualTo("+OK\r\n"));
        }
        Assert.That(DatasetText.Describe(a.Port), Is.EqualTo(onB));
    }

    /// <summary>A target that accepts and never answers: the timeout bounds the wait, the reply is Redis's, the key stays.</summary>
    [Test]
    public void ASilentTargetTimesOutAsWithRedis()
    {
        var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        var accepted = new List<Socket>();
        try
        {
            int port = ((IPEndPoint)silent.LocalEndpoint).Port;
            var replies = new List<string>();
            foreach (var source in new[] { _redis, _psyncd })
            {
                using var c = source.Connect();
                c.Command("SET", "silent", "v");
                var started = DateTime.UtcNow;
                replies.Add(c.Command("MIGRATE", "127.0.0.1", port.ToString(), "silent", "0", "300") + c.Command("EXISTS", "silent"));
                Assert.That(DateTime.UtcNow - started, Is.LessThan(TimeSpan.FromSeconds(10)), source.Name);
                while (silent.Pending())
                    accepted.Add(silent.AcceptSocket());
            }
            Assert.That(replies[0], Is.EqualTo("-IOERR error or timeout reading to target instance\r\n:1\r\n"));
            Assert.That(replies[1], Is.EqualTo(replies[0]));
        }
        finally
        {
            foreach (var s in accepted)
                s.Dispose();
            silent.Stop();
        }
    }

    /// <summary>RESTORE-ASKING is RESTORE on a server without a cluster, propagated under its own name.</summary>
    [Test]
    public void RestoreAskingIsRestore()
    {
        using var r = _redis.Connect();
        using var p = _psyncd.Connect();
        r.Command("SET", "ra-src", "hello");
        string payload = (string)r.Call("DUMP", "ra-src")!;
        foreach (var args in new[]
        {
            new[] { "RESTORE-ASKING", "ra", "0", payload },
            ["RESTORE-ASKING", "ra", "0", payload],
            ["RESTORE-ASKING", "ra", "0", payload, "REPLACE"],
            ["RESTORE-ASKING", "ra", "0", "bad"],
            ["RESTORE-ASKING", "ra", "-1", payload, "REPLACE"],
            ["RESTORE-ASKING", "ra"],
            ["GET", "ra"],
        })
        {
            Assert.That(p.Command(args), Is.EqualTo(r.Command(args)), string.Join(' ', args.Take(3)));
        }
    }
}
