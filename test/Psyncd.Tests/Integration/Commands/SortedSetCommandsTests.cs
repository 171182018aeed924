using Psyncd.Tests.Support;
using StackExchange.Redis;

namespace Psyncd.Tests.Integration.Commands;

/// <summary>Sorted set commands over TCP: exact replies, scores and errors (as redis-server 7.0.15 gives them), and SE.Redis 1.2.6.</summary>
public class SortedSetCommandsTests : PsyncdFixture
{
    private static string Array(params string[] bulks) => "*" + bulks.Length + "\r\n" + string.Concat(bulks.Select(s => "$" + s.Length + "\r\n" + s + "\r\n"));

    [Test]
    public void ScoresAreFormattedAsRedis7()
    {
        Assert.That(Do("ZADD", "zf", "0.1", "a", "1e20", "b", "-inf", "c", "3", "d", "1.5e-7", "e", "123456789012345678", "f", "+inf", "g", "-0", "h"), Is.EqualTo(":8\r\n"));
        Assert.That(Do("ZSCORE", "zf", "a"), Is.EqualTo("$19\r\n0.10000000000000001\r\n"));
        Assert.That(Do("ZSCORE", "zf", "b"), Is.EqualTo("$5\r\n1e+20\r\n"));
        Assert.That(Do("ZSCORE", "zf", "c"), Is.EqualTo("$4\r\n-inf\r\n"));
        Assert.That(Do("ZSCORE", "zf", "d"), Is.EqualTo("$1\r\n3\r\n"));
        Assert.That(Do("ZSCORE", "zf", "e"), Is.EqualTo("$22\r\n1.4999999999999999e-07\r\n"));
        Assert.That(Do("ZSCORE", "zf", "f"), Is.EqualTo("$22\r\n1.2345678901234568e+17\r\n"));
        Assert.That(Do("ZSCORE", "zf", "g"), Is.EqualTo("$3\r\ninf\r\n"));
        Assert.That(Do("ZSCORE", "zf", "h"), Is.EqualTo("$1\r\n0\r\n"), "a small sorted set holds -0 as 0");
        Assert.That(Do("ZRANGE", "zf", "0", "2", "WITHSCORES"), Is.EqualTo(Array("c", "-inf", "h", "0", "e", "1.4999999999999999e-07")));
        Assert.That(Do("ZSCORE", "zf", "nope"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("ZSCORE", "znone", "a"), Is.EqualTo("$-1\r\n"));
    }

    [Test]
    public void ZaddOptions()
    {
        Assert.That(Do("ZADD", "za", "1", "a", "2", "b"), Is.EqualTo(":2\r\n"));
        Assert.That(Do("ZADD", "za", "NX", "5", "a", "3", "c"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("ZSCORE", "za", "a"), Is.EqualTo("$1\r\n1\r\n"));
        Assert.That(Do("ZADD", "za", "XX", "5", "a", "4", "d"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("ZSCORE", "za", "a"), Is.EqualTo("$1\r\n5\r\n"));
        Assert.That(Do("ZSCORE", "za", "d"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("ZADD", "za", "CH", "6", "a", "2", "b", "9", "e"), Is.EqualTo(":2\r\n"));
        Assert.That(Do("ZADD", "za", "GT", "CH", "1", "a", "7", "a"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("ZADD", "za", "LT", "CH", "8", "a"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("ZADD", "za", "INCR", "2.5", "a"), Is.EqualTo("$3\r\n9.5\r\n"));
        Assert.That(Do("ZADD", "za", "NX", "INCR", "1", "a"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("ZADD", "za", "XX", "INCR", "1", "new"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("ZADD", "za", "GT", "INCR", "-1", "a"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("ZADD", "znew", "XX", "1", "a"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("EXISTS", "znew"), Is.EqualTo(":0\r\n"));

        Assert.That(Do("ZADD", "za", "NX", "XX", "1", "a"), Is.EqualTo("-ERR XX and NX options at the same time are not compatible\r\n"));
        Assert.That(Do("ZADD", "za", "GT", "LT", "1", "a"), Is.EqualTo("-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"));
        Assert.That(Do("ZADD", "za", "GT", "NX", "1", "a"), Is.EqualTo("-ERR GT, LT, and/or NX options at the same time are not compatible\r\n"));
        Assert.That(Do("ZADD", "za", "INCR", "1", "a", "2", "b"), Is.EqualTo("-ERR INCR option supports a single increment-element pair\r\n"));
        Assert.That(Do("ZADD", "za", "1", "a", "2"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("ZADD", "za", "NX"), Is.EqualTo("-ERR wrong number of arguments for 'zadd' command\r\n"));
        Assert.That(Do("ZADD", "za", "x", "a"), Is.EqualTo("-ERR value is not a valid float\r\n"));
        Assert.That(Do("ZADD", "za", "1", "ok", "nan", "b"), Is.EqualTo("-ERR value is not a valid float\r\n"));
        Assert.That(Do("ZSCORE", "za", "ok"), Is.EqualTo("$-1\r\n"), "nothing is added when a score is bad");
        Do("ZADD", "za", "inf", "i");
        Assert.That(Do("ZINCRBY", "za", "-inf", "i"), Is.EqualTo("-ERR resulting score is not a number (NaN)\r\n"));
        Assert.That(Do("ZINCRBY", "za", "x", "i"), Is.EqualTo("-ERR value is not a valid float\r\n"));
        Assert.That(Do("ZINCRBY", "za", "1", "fresh"), Is.EqualTo("$1\r\n1\r\n"));
    }

    [Test]
    public void RanksAndRankRanges()
    {
        Do("ZADD", "zr", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e");
        Assert.That(Do("ZCARD", "zr"), Is.EqualTo(":5\r\n"));
        Assert.That(Do("ZRANK", "zr", "a"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("ZRANK", "zr", "e"), Is.EqualTo(":4\r\n"));
        Assert.That(Do("ZREVRANK", "zr", "e"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("ZRANK", "zr", "q"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("ZRANGE", "zr", "1", "-2"), Is.EqualTo(Array("b", "c", "d")));
        Assert.That(Do("ZRANGE", "zr", "-100", "100"), Is.EqualTo(Array("a", "b", "c", "d", "e")));
        Assert.That(Do("ZRANGE", "zr", "3", "1"), Is.EqualTo("*0\r\n"));
        Assert.That(Do("ZREVRANGE", "zr", "0", "1", "WITHSCORES"), Is.EqualTo(Array("e", "5", "d", "4")));
        Assert.That(Do("ZRANGE", "zr", "0", "1", "REV"), Is.EqualTo(Array("e", "d")));
        Assert.That(Do("ZRANGE", "zr", "a", "1"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"));
        Assert.That(Do("ZRANGE", "zr", "0", "1", "LIMIT", "0", "1"), Is.EqualTo("-ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX\r\n"));
        Assert.That(Do("ZRANGE", "zr", "0", "1", "FOO"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("ZREMRANGEBYRANK", "zr", "0", "1"), Is.EqualTo(":2\r\n"));
        Assert.That(Do("ZRANGE", "zr", "0", "-1"), Is.EqualTo(Array("c", "d", "e")));
        Assert.That(Do("ZREMRANGEBYRANK", "zr", "0", "-1"), Is.EqualTo(":3\r\n"));
        Assert.That(Do("EXISTS", "zr"), Is.EqualTo(":0\r\n"));
    }

    [Test]
    public void ScoreRanges()
    {
        Do("ZADD", "zs", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e");
        Assert.That(Do("ZRANGEBYSCORE", "zs", "(1", "3"), Is.EqualTo(Array("b", "c")));
        Assert.That(Do("ZRANGEBYSCORE", "zs", "-inf", "+inf", "LIMIT", "1", "2", "WITHSCORES"), Is.EqualTo(Array("b", "2", "c", "3")));
        Assert.That(Do("ZRANGEBYSCORE", "zs", "-inf", "+inf", "LIMIT", "-1", "2"), Is.EqualTo("*0\r\n"));
        Assert.That(Do("ZRANGEBYSCORE", "zs", "-inf", "+inf", "LIMIT", "3", "-1"), Is.EqualTo(Array("d", "e")));
        Assert.That(Do("ZREVRANGEBYSCORE", "zs", "(5", "(2"), Is.EqualTo(Array("d", "c")));
        Assert.That(Do("ZRANGE", "zs", "(5", "(2", "BYSCORE", "REV", "LIMIT", "1", "1"), Is.EqualTo(Array("c")));
        Assert.That(Do("ZRANGEBYSCORE", "zs", "3", "1"), Is.EqualTo("*0\r\n"));
        Assert.That(Do("ZRANGEBYSCORE", "zs", "(3", "3"), Is.EqualTo("*0\r\n"));
        Assert.That(Do("ZRANGEBYSCORE", "zs", "x", "3"), Is.EqualTo("-ERR min or max is not a float\r\n"));
        Assert.That(Do("ZRANGEBYSCORE", "zs", "1", "3", "REV"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("ZCOUNT", "zs", "(1", "+inf"), Is.EqualTo(":4\r\n"));
        Assert.That(Do("ZCOUNT", "zs", "6", "+inf"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("ZCOUNT", "zs", "[1", "2"), Is.EqualTo("-ERR min or max is not a float\r\n"));
        Assert.That(Do("ZCOUNT", "znone", "1", "2"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("ZREMRANGEBYSCORE", "zs", "(1", "(4"), Is.EqualTo(":2\r\n"));
        Assert.That(Do("ZRANGE", "zs", "0", "-1"), Is.EqualTo(Array("a", "d", "e")));
    }

    [Test]
    public void LexRanges()
    {
        Do("ZADD", "zl", "0", "a", "0", "b", "0", "c", "0", "d", "0", "e");
        Assert.That(Do("ZRANGEBYLEX", "zl", "-", "+"), Is.EqualTo(Array("a", "b", "c", "d", "e")));
        Assert.That(Do("ZRANGEBYLEX", "zl", "(a", "[c"), Is.EqualTo(Array("b", "c")));
        Assert.That(Do("ZRANGEBYLEX", "zl", "-", "+", "LIMIT", "1", "2"), Is.EqualTo(Array("b", "c")));
        Assert.That(Do("ZREVRANGEBYLEX", "zl", "[d", "(a"), Is.EqualTo(Array("d", "c", "b")));
        Assert.That(Do("ZRANGE", "zl", "[b", "[d", "BYLEX"), Is.EqualTo(Array("b", "c", "d")));
        Assert.That(Do("ZRANGEBYLEX", "zl", "a", "+"), Is.EqualTo("-ERR min or max not valid string range item\r\n"));
        Assert.That(Do("ZRANGEBYLEX", "zl", "-", "+", "WITHSCORES"), Is.EqualTo("-ERR syntax error, WITHSCORES not supported in combination with BYLEX\r\n"));
        Assert.That(Do("ZLEXCOUNT", "zl", "[b", "+"), Is.EqualTo(":4\r\n"));
        Assert.That(Do("ZLEXCOUNT", "zl", "+", "-"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("ZLEXCOUNT", "zl", "+x", "-"), Is.EqualTo("-ERR min or max not valid string range item\r\n"));
        Assert.That(Do("ZREMRANGEBYLEX", "zl", "[b", "(d"), Is.EqualTo(":2\r\n"));
        Assert.That(Do("ZRANGE", "zl", "0", "-1"), Is.EqualTo(Array("a", "d", "e")));
    }

    [Test]
    public void PopMinAndMax()
    {
        Assert.That(Do("ZPOPMIN", "znone"), Is.EqualTo("*0\r\n"));
        Do("ZADD", "zp", "1", "a", "2", "b", "3", "c");
        Assert.That(Do("ZPOPMIN", "zp"), Is.EqualTo(Array("a", "1")));
        Assert.That(Do("ZPOPMAX", "zp", "5"), Is.EqualTo(Array("c", "3", "b", "2")));
        Assert.That(Do("EXISTS", "zp"), Is.EqualTo(":0\r\n"));
        Do("ZADD", "zp", "1", "a");
        Assert.That(Do("ZPOPMIN", "zp", "-1"), Is.EqualTo("-ERR value is out of range, must be positive\r\n"));
        Assert.That(Do("ZPOPMIN", "zp", "1", "2"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("ZPOPMIN", "zp", "0"), Is.EqualTo("*0\r\n"));
    }

    [Test]
    public void UnionAndIntersection()
    {
        Do("ZADD", "zu1", "1", "a", "2", "b");
        Do("ZADD", "zu2", "10", "b", "20", "c");
        Do("SADD", "zuset", "a", "c");
        Assert.That(Do("ZUNIONSTORE", "zuout", "2", "zu1", "zu2"), Is.EqualTo(":3\r\n"));
        Assert.That(Do("ZRANGE", "zuout", "0", "-1", "WITHSCORES"), Is.EqualTo(Array("a", "1", "b", "12", "c", "20")));
        Assert.That(Do("ZUNIONSTORE", "zuout", "3", "zu1", "zu2", "zuset", "WEIGHTS", "2", "1", "5", "AGGREGATE", "MAX"), Is.EqualTo(":3\r\n"));
        Assert.That(Do("ZRANGE", "zuout", "0", "-1", "WITHSCORES"), Is.EqualTo(Array("a", "5", "b", "10", "c", "20")));
        Assert.That(Do("ZINTERSTORE", "zuout", "2", "zu1", "zu2", "AGGREGATE", "MIN"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("ZRANGE", "zuout", "0", "-1", "WITHSCORES"), Is.EqualTo(Array("b", "2")));
        Assert.That(Do("ZINTERSTORE", "zuout", "2", "zu1", "zmissing"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("EXISTS", "zuout"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("ZUNIONSTORE", "zuout", "0", "zu1"), Is.EqualTo("-ERR at least 1 input key is needed for 'zunionstore' command\r\n"));
        Assert.That(Do("ZINTERSTORE", "zuout", "3", "zu1"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("ZUNIONSTORE", "zuout", "x", "zu1"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"));
        Assert.That(Do("ZUNIONSTORE", "zuout", "1", "zu1", "WEIGHTS", "x"), Is.EqualTo("-ERR weight value is not a float\r\n"));
        Assert.That(Do("ZUNIONSTORE", "zuout", "1", "zu1", "AGGREGATE", "AVG"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("ZUNIONSTORE", "zuout", "1", "zu1", "WITHSCORES"), Is.EqualTo("-ERR syntax error\r\n"));
        Do("ZADD", "zinf", "inf", "a");
        Do("ZADD", "zninf", "-inf", "a");
        Assert.That(Do("ZUNIONSTORE", "zuout", "2", "zinf", "zninf"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("ZSCORE", "zuout", "a"), Is.EqualTo("$1\r\n0\r\n"), "inf + -inf aggregates to 0");
    }

    [Test]
    public void EveryCommandAnswersWrongType()
    {
        Do("SET", "zstr", "v");
        Do("ZADD", "zok", "1", "a");
        const string wrong = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        string[][] commands =
        [
            ["ZADD", "zstr", "1", "a"], ["ZINCRBY", "zstr", "1", "a"], ["ZREM", "zstr", "a"], ["ZCARD", "zstr"],
            ["ZSCORE", "zstr", "a"], ["ZRANK", "zstr", "a"], ["ZREVRANK", "zstr", "a"], ["ZRANGE", "zstr", "0", "1"],
            ["ZREVRANGE", "zstr", "0", "1"], ["ZRANGEBYSCORE", "zstr", "0", "1"], ["ZREVRANGEBYSCORE", "zstr", "1", "0"],
            ["ZRANGEBYLEX", "zstr", "-", "+"], ["ZREVRANGEBYLEX", "zstr", "+", "-"], ["ZLEXCOUNT", "zstr", "-", "+"],
            ["ZCOUNT", "zstr", "0", "1"], ["ZREMRANGEBYRANK", "zstr", "0", "1"], ["ZREMRANGEBYSCORE", "zstr", "0", "1"],
            ["ZREMRANGEBYLEX", "zstr", "-", "+"], ["ZUNIONSTORE", "zd", "2", "zok", "zstr"], ["ZINTERSTORE", "zd", "1", "zstr"],
            ["ZSCAN", "zstr", "0"], ["ZPOPMIN", "zstr"], ["ZPOPMAX", "zstr", "2"],
        ];
        foreach (var command in commands)
            Assert.That(Do(command), Is.EqualTo(wrong), string.Join(' ', command));
    }

    [Test]
    public void ZscanReturnsMembersWithScores()
    {
        Do("ZADD", "zsc", "1", "a", "2", "b");
        Assert.That(Do("ZSCAN", "zsc", "0"), Is.EqualTo("*2\r\n$1\r\n0\r\n" + Array("a", "1", "b", "2")));
        Assert.That(Do("ZSCAN", "zsc", "0", "MATCH", "b*"), Is.EqualTo("*2\r\n$1\r\n0\r\n" + Array("b", "2")));
        for (int i = 0; i < 500; i++)
            Do("ZADD", "zscbig", i.ToString(), "m" + i);
        var seen = new HashSet<string>();
        string cursor = "0";
        int steps = 0;
        do
        {
            var reply = (object?[])Client.Call("ZSCAN", "zscbig", cursor)!;
            cursor = (string)reply[0]!;
            var items = ((object?[])reply[1]!).Cast<string>().ToArray();
            for (int i = 0; i < items.Length; i += 2)
                seen.Add(items[i] + "=" + items[i + 1]);
        }
        while (cursor != "0" && ++steps < 10000);
        Assert.That(seen, Is.EquivalentTo(Enumerable.Range(0, 500).Select(i => "m" + i + "=" + i)));
    }

    [Test]
    public void LargeSortedSetKeepsRanksRight()
    {
        // Enough elements for many skiplist levels; ranks checked against a model after updates and removals.
        var rng = new Random(7);
        var model = new SortedDictionary<string, double>(StringComparer.Ordinal);
        using var pipe = Server.Connect();
        int sent = 0;
        for (int i = 0; i < 3000; i++)
        {
            string member = "k" + rng.Next(1500);
            double score = rng.Next(200);
            pipe.Send("ZADD", "zbig", score.ToString(), member);
            sent++;
            model[member] = score;
            if (i % 7 == 0)
            {
                string gone = "k" + rng.Next(1500);
                pipe.Send("ZREM", "zbig", gone);
                sent++;
                model.Remove(gone);
            }
        }
        for (int i = 0; i < sent; i++)
            Assert.That(pipe.ReadReply(), Does.StartWith(":"));
        var ordered = model.OrderBy(e => e.Value).ThenBy(e => e.Key, StringComparer.Ordinal).Select(e => e.Key).ToArray();
        Assert.That(Client.Call("ZCARD", "zbig"), Is.EqualTo((long)ordered.Length));
        for (int i = 0; i < ordered.Length; i += 37)
        {
            Assert.That(Client.Call("ZRANK", "zbig", ordered[i]), Is.EqualTo((long)i));
            Assert.That(Client.Call("ZRANGE", "zbig", i.ToString(), i.ToString()), Is.EqualTo(new object?[] { ordered[i] }));
        }
        Assert.That(((object?[])Client.Call("ZRANGE", "zbig", "0", "-1")!).Cast<string>(), Is.EqualTo(ordered));
    }

    [Test]
    public void StackExchangeRedisSortedSetApi()
    {
        using var mux = StackExchangeClient.Connect(Server.Port);
        var db = mux.GetDatabase();
        Assert.That(db.SortedSetAdd("se:z", new[] { new SortedSetEntry("a", 1), new SortedSetEntry("b", 2.5), new SortedSetEntry("c", 3) }), Is.EqualTo(3));
        Assert.That(db.SortedSetAdd("se:z", "a", 0.5), Is.False);
        Assert.That(db.SortedSetScore("se:z", "b"), Is.EqualTo(2.5));
        Assert.That(db.SortedSetIncrement("se:z", "b", 1), Is.EqualTo(3.5));
        Assert.That(db.SortedSetRank("se:z", "b"), Is.EqualTo(2));
        Assert.That(db.SortedSetRank("se:z", "b", Order.Descending), Is.EqualTo(0));
        Assert.That(db.SortedSetLength("se:z"), Is.EqualTo(3));
        Assert.That(db.SortedSetLength("se:z", 1, 3), Is.EqualTo(1));
        Assert.That(db.SortedSetRangeByRank("se:z", 0, -1).Select(v => (string)v!), Is.EqualTo(new[] { "a", "c", "b" }));
        var withScores = db.SortedSetRangeByScoreWithScores("se:z", 0.5, 3, Exclude.Start);
        Assert.That(withScores.Select(e => (string)e.Element! + "=" + e.Score), Is.EqualTo(new[] { "c=3" }));
        Assert.That(db.SortedSetRangeByScore("se:z", order: Order.Descending, take: 2).Select(v => (string)v!), Is.EqualTo(new[] { "b", "c" }));
        Assert.That(db.SortedSetCombineAndStore(SetOperation.Union, "se:z2", "se:z", "se:z"), Is.EqualTo(3));
        Assert.That(db.SortedSetScore("se:z2", "a"), Is.EqualTo(1));
        Assert.That(db.SortedSetScan("se:z").Count(), Is.EqualTo(3));
        Assert.That(db.SortedSetRemoveRangeByScore("se:z", 0, 1), Is.EqualTo(1));
        Assert.That(db.SortedSetRemove("se:z", "c"), Is.True);
        Assert.That(db.SortedSetRangeByRankWithScores("se:z").Single().Score, Is.EqualTo(3.5));
    }
}
