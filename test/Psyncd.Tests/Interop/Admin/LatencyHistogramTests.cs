using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Admin;

/// <summary>
/// LATENCY HISTOGRAM against redis-server 7.0.15: the same commands on both, then the same names in the same
/// order (subcommands as <c>config|get</c>, a repeated name twice, an unknown one left out), the same calls, and
/// buckets Redis's HDR histogram would report (powers of two from 1024 ns, keyed in microseconds, cumulative).
/// Timings differ between servers, so buckets are compared exactly only for DEBUG SLEEP, whose duration decides it.
/// </summary>
[Category("Interop")]
[NonParallelizable]
public class LatencyHistogramTests : DifferentialFixture
{
    protected override string[] ServerArgs => ["--enable-debug-command", "yes"];

    /// <summary>The keys redis-server's histogram walk can report: (1032·2^k − 1) / 1000, and the top of its range.</summary>
    private static readonly HashSet<long> s_bucketKeys = Enumerable.Range(0, 20).Select(k => ((1032L << k) - 1) / 1000).Append(((1L << 30) - 1) / 1000).ToHashSet();

    private static void RunWorkload(RawClient c)
    {
        c.Command("CONFIG", "RESETSTAT");
        for (int i = 0; i < 5; i++)
            c.Command("SET", "lh", i.ToString());
        c.Command("GET", "nosuch");
        c.Command("CONFIG", "GET", "maxmemory");
        c.Command("DEBUG", "SLEEP", "0.3");
    }

    /// <summary>Parses a RESP2 reply into (name, calls, [(usec, cumulative)]) entries.</summary>
    private static List<(string Name, long Calls, List<(long Usec, long Cumulative)> Buckets)> Parse(object? reply)
    {
        var result = new List<(string, long, List<(long, long)>)>();
        var top = (object?[])reply!;
        for (int i = 0; i < top.Length; i += 2)
        {
            var body = (object?[])top[i + 1]!;
            Assert.That(body[0], Is.EqualTo("calls"));
            Assert.That(body[2], Is.EqualTo("histogram_usec"));
            var flat = (object?[])body[3]!;
            var buckets = new List<(long, long)>();
            for (int j = 0; j < flat.Length; j += 2)
                buckets.Add(((long)flat[j]!, (long)flat[j + 1]!));
            result.Add(((string)top[i]!, (long)body[1]!, buckets));
        }
        return result;
    }

    [Test]
    public void NamedCommandsAnswerAsRedisDoes()
    {
        var parsed = new List<List<(string Name, long Calls, List<(long Usec, long Cumulative)> Buckets)>>();
        foreach (var server in new[] { _redis, _psyncd })
        {
            using var c = server.Connect();
            RunWorkload(c);
            parsed.Add(Parse(c.Call("LATENCY", "HISTOGRAM", "set", "SET", "nosuch", "config|get", "CONFIG|GET", "debug", "get", "hset")));
        }
        var (redis, psyncd) = (parsed[0], parsed[1]);
        Assert.That(psyncd.Select(e => (e.Name, e.Calls)), Is.EqualTo(redis.Select(e => (e.Name, e.Calls))));
        Assert.That(redis.Select(e => e.Name), Is.EqualTo(new[] { "set", "set", "config|get", "config|get", "debug", "get" }));
        foreach (var entry in psyncd)
        {
            Assert.That(entry.Buckets.Select(b => b.Usec), Is.Ordered.And.All.Matches<long>(s_bucketKeys.Contains), entry.Name);
            Assert.That(entry.Buckets.Select(b => b.Cumulative), Is.Ordered.Ascending, entry.Name);
            Assert.That(entry.Buckets[^1].Cumulative, Is.EqualTo(entry.Calls), entry.Name);
        }
        // 300 ms lies between 270 and 541 ms: the 541065 µs bucket on both servers.
        Assert.That(psyncd.Single(e => e.Name == "debug").Buckets, Is.EqualTo(redis.Single(e => e.Name == "debug").Buckets));
        Assert.That(redis.Single(e => e.Name == "debug").Buckets, Is.EqualTo(new[] { (541065L, 1L) }));
    }

    [Test]
    public void Resp3RepliesAreMapsAsRedisWritesThem()
    {
        var replies = new List<string>();
        foreach (var server in new[] { _redis, _psyncd })
        {
            using var c = server.Connect();
            c.Command("HELLO", "3");
            RunWorkload(c);
            replies.Add(c.Command("LATENCY", "HISTOGRAM", "debug", "nosuch") + c.Command("LATENCY", "HISTOGRAM", "nosuch"));
        }
        Assert.That(replies[0], Is.EqualTo("%1\r\n$5\r\ndebug\r\n%2\r\n$5\r\ncalls\r\n:1\r\n$14\r\nhistogram_usec\r\n%1\r\n:541065\r\n:1\r\n%0\r\n"));
        Assert.That(replies[1], Is.EqualTo(replies[0]));
    }

    [Test]
    public void WithoutNamesEveryCommandWithCallsIsAnswered()
    {
        var names = new List<string[]>();
        foreach (var server in new[] { _redis, _psyncd })
        {
            using var c = server.Connect();
            RunWorkload(c);
            names.Add(Parse(c.Call("LATENCY", "HISTOGRAM")).Select(e => e.Name + ":" + e.Calls).Order(StringComparer.Ordinal).ToArray());
        }
        // LATENCY HISTOGRAM itself has not been counted yet when it answers.
        Assert.That(names[0], Is.EqualTo(new[] { "config|get:1", "config|resetstat:1", "debug:1", "get:1", "set:5" }));
        Assert.That(names[1], Is.EqualTo(names[0]));
    }

    [Test]
    public void LatencyTrackingNoStopsTheRecording()
    {
        var replies = new List<string>();
        foreach (var server in new[] { _redis, _psyncd })
        {
            using var c = server.Connect();
            c.Command("CONFIG", "RESETSTAT");
            string set = c.Command("CONFIG", "SET", "latency-tracking", "no") + c.Command("CONFIG", "GET", "latency-tracking");
            c.Command("SET", "lt", "1");
            // CONFIG SET itself is not recorded either: the setting is read after the command ran.
            replies.Add(set + c.Command("LATENCY", "HISTOGRAM", "set", "config|set") + c.Command("CONFIG", "SET", "latency-tracking", "yes"));
        }
        Assert.That(replies[0], Does.Contain("*0\r\n"));
        Assert.That(replies[1], Is.EqualTo(replies[0]));
    }

    /// <summary>A command that blocks is counted when it is served, not when it blocks, nor when its wait times out.</summary>
    [Test]
    public void ABlockedCommandCountsWhenItsWaitEnds()
    {
        var transcripts = new List<string>();
        foreach (var server in new[] { _redis, _psyncd })
        {
            using var c = server.Connect();
            using var waiter = server.Connect();
            c.Command("CONFIG", "RESETSTAT");
            waiter.Send("BLPOP", "lh:list", "0");
            Eventually.True(() => ReplicationWatch.Info(server.Port, "clients")["blocked_clients"] == "1", TimeSpan.FromSeconds(10), "the client blocks");
            string whileBlocked = c.Command("LATENCY", "HISTOGRAM", "blpop");
            c.Command("RPUSH", "lh:list", "x");
            waiter.ReadReply();
            var after = Parse(c.Call("LATENCY", "HISTOGRAM", "blpop"));
            waiter.Command("BLPOP", "lh:list", "0.01");
            var timedOut = Parse(c.Call("LATENCY", "HISTOGRAM", "blpop"));
            transcripts.Add(whileBlocked + " " + string.Join(",", after.Select(e => e.Name + ":" + e.Calls)) + " " + string.Join(",", timedOut.Select(e => e.Name + ":" + e.Calls)));
        }
        Assert.That(transcripts[0], Is.EqualTo("*0\r\n blpop:1 blpop:1"));
        Assert.That(transcripts[1], Is.EqualTo(transcripts[0]));
    }
}
