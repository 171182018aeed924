using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Commands;

/// <summary>
/// The commands Redis 6.2 and 7.0 added for the types psyncd has, and 7.0's options of older ones: each script
/// runs on psyncd and on a real redis-server 7.0.15 (after FLUSHALL, in database 0), and every reply must be
/// the same bytes, under RESP2 and RESP3. Scripts hold only replies Redis specifies (no random picks, no hash field order).
/// </summary>
[Category("Interop")]
public class Redis7CommandsDifferentialTests
{
    private ServerProcess _psyncd = null!;
    private ServerProcess _redis = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _redis = ServerProcess.StartRedis();
        _psyncd = ServerProcess.StartPsyncd();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _psyncd?.Dispose();
        _redis?.Dispose();
    }

    [TestCaseSource(nameof(Scripts))]
    public void RepliesMatchRedis(string script, int protocol)
    {
        using var p = _psyncd.Connect();
        using var r = _redis.Connect();
        if (protocol == 3)
        {
            r.Command("HELLO", "3");
            p.Command("HELLO", "3");
        }
        var lines = Redis7Scripts.Lines(script);
        foreach (var line in lines.Prepend("FLUSHALL"))
        {
            var args = Redis7Scripts.Split(line);
            var theirs = r.Command(args);
            var mine = p.Command(args);
            Assert.That(mine, Is.EqualTo(theirs), "after: " + line);
        }
    }

    /// <summary>
    /// Clients blocked in BLMPOP, BZPOPMIN, BZMPOP and BLPOP on the same keys, served by pushes in turn: a
    /// client waiting for a sorted set is passed over by a list push and served by a ZADD, in arrival order.
    /// </summary>
    [Test]
    public void BlockedClientsAreServedAsRedisServesThem()
    {
        Assert.That(BlockingTranscript(_psyncd), Is.EqualTo(BlockingTranscript(_redis)));
    }

    private static List<string> BlockingTranscript(ServerProcess server)
    {
        var transcript = new List<string>();
        using var control = server.Connect();
        control.Command("FLUSHALL");
        var waiters = new[]
        {
            new[] { "BLMPOP", "0", "2", "k1", "k2", "RIGHT", "COUNT", "2" },
            new[] { "BZPOPMIN", "k2", "k1", "0" },
            new[] { "BZMPOP", "0", "1", "k2", "MAX", "COUNT", "5" },
            new[] { "BLPOP", "k2", "0" },
            new[] { "BZPOPMAX", "k1", "0" },
        };
        var clients = new List<RawClient>();
        try
        {
            foreach (var command in waiters)
            {
                var client = server.Connect();
                clients.Add(client);
                client.Send(command);
                int blocked = clients.Count;
                Eventually.True(() => ReplicationWatch.Info(server.Port, "clients")["blocked_clients"] == blocked.ToString(),
                    TimeSpan.FromSeconds(10), "the client blocks");
            }
            transcript.Add(control.Command("RPUSH", "k2", "a", "b", "c"));   // BLMPOP takes c, b; BLPOP takes a
            transcript.Add(clients[0].ReadReply());
            transcript.Add(clients[3].ReadReply());
            transcript.Add(control.Command("ZADD", "k1", "1", "x", "2", "y", "3", "z"));   // BZPOPMIN takes x, BZPOPMAX z
            transcript.Add(clients[1].ReadReply());
            transcript.Add(clients[4].ReadReply());
            transcript.Add(control.Command("ZADD", "k2", "5", "m", "6", "n"));   // BZMPOP takes n, m
            transcript.Add(clients[2].ReadReply());
            transcript.Add(control.Command("ZRANGE", "k1", "0", "-1", "WITHSCORES"));
            transcript.Add(control.Command("EXISTS", "k2"));
        }
        finally
        {
            foreach (var client in clients)
                client.Dispose();
        }
        return transcript;
    }

    private static IEnumerable<TestCaseData> Scripts()
        => from s in Redis7Scripts.All
           from protocol in new[] { 2, 3 }
           select new TestCaseData(s.Name, protocol).SetName("RepliesMatchRedis(" + s.Name + ", RESP" + protocol + ")");
}
