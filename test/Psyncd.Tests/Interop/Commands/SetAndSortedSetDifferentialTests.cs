using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Commands;

/// <summary>
/// Seeded random sequences of set, sorted set and SORT commands sent to psyncd and to a real redis-server:
/// every reply must be the same (order-free replies compared sorted). Random commands are checked for
/// what is specified: SPOP's pops are replayed on redis-server as SREM (which must remove them all), and
/// SRANDMEMBER's picks must be members, distinct for a positive count, as many as the count says.
/// </summary>
[Category("Interop")]
public class SetAndSortedSetDifferentialTests : DifferentialFixture
{
    private static readonly string[] s_setKeys = ["s1", "s2", "s3", "s4"];
    private static readonly string[] s_zsetKeys = ["z1", "z2", "z3", "z4"];
    private static readonly string[] s_scores = ["0", "1", "2", "3", "-1", "-2", "5", "10", "0.5", "1.5", "-2.5", "7", "100", "0.25"];
    private static readonly string[] s_bounds = ["-inf", "+inf", "0", "1", "(1", "2", "(2", "3", "-1", "(-1", "5", "(5", "0.5", "abc", "(", "10"];
    private static readonly string[] s_lexBounds = ["-", "+", "[a", "(a", "[c", "(c", "[m1", "(m3", "[z", "[", "(", "a", "[3"];

    [TestCase(1, 12)]
    [TestCase(2, 12)]
    [TestCase(3, 12)]
    [TestCase(4, 400)]
    [TestCase(5, 400)]
    public void RandomCommandsMatchRedis(int seed, int members)
    {
        using var p = _psyncd.Connect();
        using var r = _redis.Connect();
        Assert.That(p.Command("SELECT", seed.ToString()), Is.EqualTo("+OK\r\n"));
        Assert.That(r.Command("SELECT", seed.ToString()), Is.EqualTo("+OK\r\n"));
        p.Command("FLUSHDB");
        r.Command("FLUSHDB");
        Assert.That(p.Command("SET", "str", "text"), Is.EqualTo(r.Command("SET", "str", "text")));

        var rng = new Random(seed);
        var log = new List<string>();
        for (int i = 0; i < 2500; i++)
        {
            var command = Next(rng, members);
            log.Add(string.Join(' ', command));
            string name = command[0];
            if (name == "SPOP")
            {
                CheckSpop(p, r, command, log);
                continue;
            }
            if (name == "SRANDMEMBER")
            {
                CheckSrandmember(p, r, command, log);
                continue;
            }
            if (name is "SSCAN" or "ZSCAN")
            {
                CheckScan(p, r, command[1], name == "ZSCAN", log);
                continue;
            }
            if (name == "SORT" && command.Contains("nosort") && Text(r.Call("TYPE", command[1])) == "set")
            {
                // A set's "don't sort" order is its internal one: only the number of elements is specified.
                Assert.That(p.Command(command).Split("\r\n")[0], Is.EqualTo(r.Command(command).Split("\r\n")[0]));
                continue;
            }
            var mine = p.Command(command);
            var theirs = r.Command(command);
            if (name is "SMEMBERS" or "SINTER" or "SUNION" or "SDIFF")
            {
                mine = Sorted(mine);
                theirs = Sorted(theirs);
            }
            if (mine != theirs)
                Assert.Fail("replies differ after:\n" + string.Join('\n', log.TakeLast(15)) + "\nredis:  " + theirs + "\npsyncd: " + mine);
        }

        // The final states match too.
        foreach (var key in s_setKeys.Concat(["d1", "d2"]))
            Assert.That(Sorted(p.Command("SMEMBERS", key)), Is.EqualTo(Sorted(r.Command("SMEMBERS", key))), key);
        foreach (var key in s_zsetKeys.Concat(["d1", "d2", "l1", "l2"]))
            Assert.That(p.Command("ZRANGE", key, "0", "-1", "WITHSCORES"), Is.EqualTo(r.Command("ZRANGE", key, "0", "-1", "WITHSCORES")), key);
    }

    private static string[] Next(Random rng, int members)
    {
        string Set() => rng.Next(20) == 0 ? "str" : rng.Next(25) == 0 ? "z1" : s_setKeys[rng.Next(s_setKeys.Length)];
        string Zset() => rng.Next(20) == 0 ? "str" : rng.Next(25) == 0 ? "s1" : s_zsetKeys[rng.Next(s_zsetKeys.Length)];
        string Member() => rng.Next(3) switch
        {
            0 => rng.Next(members).ToString(),
            1 => "m" + rng.Next(members),
            _ => ((char)('a' + rng.Next(8))).ToString(),
        };
        string Score() => s_scores[rng.Next(s_scores.Length)];
        string Bound() => s_bounds[rng.Next(s_bounds.Length)];
        string Lex() => s_lexBounds[rng.Next(s_lexBounds.Length)];
        // Lexicographic ranges are specified only when all scores are equal: they get keys of their own.
        // Not "str": a STORE command may have made it a sorted set with mixed scores, where lex ranges are
        // undefined in Redis (and which members get there depends on SPOP's random picks).
        string LexKey() => rng.Next(2) == 0 ? "l1" : "l2";
        string Index() => (rng.Next(14) - 7).ToString();
        string[] Members(string prefix, params string[] head)
        {
            var list = new List<string> { prefix };
            list.AddRange(head);
            int n = 1 + rng.Next(members > 100 ? 40 : 4);
            for (int i = 0; i < n; i++)
                list.Add(Member());
            return list.ToArray();
        }
        string[] ScoreMembers(List<string> list)
        {
            int n = 1 + rng.Next(members > 100 ? 40 : 4);
            for (int i = 0; i < n; i++)
            {
                list.Add(Score());
                list.Add(Member());
            }
            return list.ToArray();
        }

        switch (rng.Next(50))
        {
            case 0 or 1 or 2 or 3: return Members("SADD", Set());
            case 4 or 5: return Members("SREM", Set());
            case 6: return ["SCARD", Set()];
            case 7: return ["SISMEMBER", Set(), Member()];
            case 8: return ["SMEMBERS", Set()];
            case 9: return rng.Next(2) == 0 ? ["SPOP", Set()] : ["SPOP", Set(), rng.Next(5).ToString()];
            case 10: return rng.Next(2) == 0 ? ["SRANDMEMBER", Set()] : ["SRANDMEMBER", Set(), (rng.Next(14) - 7).ToString()];
            case 11: return ["SMOVE", Set(), Set(), Member()];
            case 12: return ["SINTER", Set(), Set(), Set()];
            case 13: return ["SUNION", Set(), Set()];
            case 14: return ["SDIFF", Set(), Set(), Set()];
            case 15: return ["SINTERSTORE", rng.Next(2) == 0 ? "d1" : s_setKeys[rng.Next(s_setKeys.Length)], Set(), Set()];
            case 16: return ["SUNIONSTORE", rng.Next(2) == 0 ? "d2" : s_setKeys[rng.Next(s_setKeys.Length)], Set(), Set()];
            case 17: return ["SDIFFSTORE", rng.Next(2) == 0 ? "d1" : s_setKeys[rng.Next(s_setKeys.Length)], Set(), Set()];
            case 18: return ["SSCAN", Set()];
            case 19 or 20 or 21 or 22:
            {
                var list = new List<string> { "ZADD", Zset() };
                foreach (var option in new[] { "NX", "XX", "GT", "LT", "CH" })
                {
                    if (rng.Next(6) == 0)
                        list.Add(option);
                }
                if (rng.Next(8) == 0)
                {
                    list.Add("INCR");
                    list.Add(Score());
                    list.Add(Member());
                    return list.ToArray();
                }
                return ScoreMembers(list);
            }
            case 23: return Members("ZREM", Zset());
            case 24: return ["ZCARD", Zset()];
            case 25: return ["ZSCORE", Zset(), Member()];
            case 26: return ["ZINCRBY", Zset(), Score(), Member()];
            case 27: return [rng.Next(2) == 0 ? "ZRANK" : "ZREVRANK", Zset(), Member()];
            case 28:
            {
                var list = new List<string> { rng.Next(2) == 0 ? "ZRANGE" : "ZREVRANGE", Zset(), Index(), Index() };
                if (rng.Next(2) == 0)
                    list.Add("WITHSCORES");
                return list.ToArray();
            }
            case 29 or 30:
            {
                bool rev = rng.Next(2) == 0;
                var list = new List<string> { rev ? "ZREVRANGEBYSCORE" : "ZRANGEBYSCORE", Zset(), Bound(), Bound() };
                if (rng.Next(2) == 0)
                    list.Add("WITHSCORES");
                if (rng.Next(3) == 0)
                    list.AddRange(["LIMIT", (rng.Next(5) - 1).ToString(), (rng.Next(5) - 2).ToString()]);
                return list.ToArray();
            }
            case 31:
            {
                var list = new List<string> { rng.Next(2) == 0 ? "ZREVRANGEBYLEX" : "ZRANGEBYLEX", LexKey(), Lex(), Lex() };
                if (rng.Next(3) == 0)
                    list.AddRange(["LIMIT", (rng.Next(4) - 1).ToString(), (rng.Next(4) - 1).ToString()]);
                return list.ToArray();
            }
            case 32:
            {
                // Redis 6.2's ZRANGE forms.
                var list = new List<string> { "ZRANGE", Zset() };
                int kind = rng.Next(3);
                if (kind == 0)
                    list.AddRange([Index(), Index()]);
                else if (kind == 1)
                    list.AddRange([Bound(), Bound(), "BYSCORE"]);
                else
                {
                    list[1] = LexKey();
                    list.AddRange([Lex(), Lex(), "BYLEX"]);
                }
                if (rng.Next(2) == 0)
                    list.Add("REV");
                if (rng.Next(3) == 0)
                    list.AddRange(["LIMIT", (rng.Next(4) - 1).ToString(), (rng.Next(4) - 1).ToString()]);
                if (rng.Next(3) == 0)
                    list.Add("WITHSCORES");
                return list.ToArray();
            }
            case 33: return ["ZCOUNT", Zset(), Bound(), Bound()];
            case 34: return ["ZLEXCOUNT", LexKey(), Lex(), Lex()];
            case 35: return ["ZREMRANGEBYRANK", Zset(), Index(), Index()];
            case 36: return ["ZREMRANGEBYSCORE", Zset(), Bound(), Bound()];
            case 37: return ["ZREMRANGEBYLEX", LexKey(), Lex(), Lex()];
            case 38 or 39:
            {
                var list = new List<string> { rng.Next(2) == 0 ? "ZUNIONSTORE" : "ZINTERSTORE", rng.Next(2) == 0 ? "d1" : s_zsetKeys[rng.Next(s_zsetKeys.Length)] };
                int n = 1 + rng.Next(3);
                list.Add(n.ToString());
                for (int i = 0; i < n; i++)
                    list.Add(rng.Next(5) == 0 ? Set() : Zset());
                if (rng.Next(2) == 0)
                {
                    list.Add("WEIGHTS");
                    for (int i = 0; i < n; i++)
                        list.Add((rng.Next(5) - 1).ToString());
                }
                if (rng.Next(2) == 0)
                    list.AddRange(["AGGREGATE", new[] { "SUM", "MIN", "MAX" }[rng.Next(3)]]);
                return list.ToArray();
            }
            case 40: return rng.Next(2) == 0 ? ["ZPOPMIN", Zset()] : ["ZPOPMAX", Zset(), rng.Next(4).ToString()];
            case 41: return ["ZSCAN", Zset()];
            case 42 or 43:
            {
                bool onZset = rng.Next(2) == 0;
                var list = new List<string> { "SORT", onZset ? Zset() : Set() };
                // A set's "don't sort" order is its internal one: only sorted sets get BY nosort.
                if (onZset && rng.Next(4) == 0)
                    list.AddRange(["BY", "nosort"]);
                if (rng.Next(2) == 0)
                    list.Add("ALPHA");
                if (rng.Next(2) == 0)
                    list.Add("DESC");
                if (rng.Next(3) == 0)
                    list.AddRange(["LIMIT", (rng.Next(4) - 1).ToString(), (rng.Next(4) - 1).ToString()]);
                if (rng.Next(4) == 0)
                    list.AddRange(["GET", "#"]);
                return list.ToArray();
            }
            case 44: return ["DEL", rng.Next(2) == 0 ? Set() : Zset()];
            case 45: return ["TYPE", rng.Next(2) == 0 ? "d1" : "d2"];
            case 46: return ["EXISTS", "d1", "d2", Set(), Zset()];
            case 47: return ["ZADD", LexKey(), "0", Member(), "0", Member()];
            default: return ["ZADD", Zset(), "INCR", s_scores[rng.Next(s_scores.Length)], Member()];
        }
    }

    private static void CheckSpop(RawClient p, RawClient r, string[] command, List<string> log)
    {
        var mine = p.ReadValueOf(command);
        if (mine is RespError || mine is null)
        {
            Assert.That(Text(mine), Is.EqualTo(Text(r.Call(command))), string.Join('\n', log.TakeLast(10)));
            return;
        }
        var popped = mine is object?[] array ? array.Cast<string>().ToArray() : [(string)mine];
        if (command.Length == 3)
            Assert.That(popped, Has.Length.LessThanOrEqualTo(int.Parse(command[2])));
        Assert.That(popped.Distinct().Count(), Is.EqualTo(popped.Length), "SPOP pops distinct members");
        if (popped.Length == 0)
        {
            Assert.That(Text(r.Call(command)), Is.EqualTo("[]"));
            return;
        }
        var srem = new List<string> { "SREM", command[1] };
        srem.AddRange(popped);
        Assert.That(r.Call(srem.ToArray()), Is.EqualTo((long)popped.Length), "every popped member was in the set:\n" + string.Join('\n', log.TakeLast(10)));
        if (command.Length == 3)
            Assert.That(r.Call("SCARD", command[1]), Is.EqualTo(p.Call("SCARD", command[1])), "SPOP takes min(count, size)");
    }

    private static void CheckSrandmember(RawClient p, RawClient r, string[] command, List<string> log)
    {
        var mine = p.ReadValueOf(command);
        if (mine is RespError || mine is null)
        {
            Assert.That(Text(mine), Is.EqualTo(Text(r.Call(command))), string.Join('\n', log.TakeLast(10)));
            return;
        }
        var picks = mine is object?[] array ? array.Cast<string>().ToArray() : [(string)mine];
        long size = (long)r.Call("SCARD", command[1])!;
        if (command.Length == 3)
        {
            long count = long.Parse(command[2]);
            Assert.That(picks.Length, Is.EqualTo(size == 0 ? 0 : count >= 0 ? Math.Min(count, size) : -count), string.Join("\n", log.TakeLast(25)));
            if (count >= 0)
                Assert.That(picks.Distinct().Count(), Is.EqualTo(picks.Length));
        }
        foreach (var pick in picks)
            Assert.That(r.Call("SISMEMBER", command[1], pick), Is.EqualTo(1L), pick);
    }

    /// <summary>A whole SSCAN/ZSCAN loop on psyncd returns every member that redis-server has (and no other).</summary>
    private static void CheckScan(RawClient p, RawClient r, string key, bool zset, List<string> log)
    {
        var type = Text(r.Call("TYPE", key));
        if (type != (zset ? "zset" : "set"))
        {
            Assert.That(p.Command(zset ? "ZSCAN" : "SSCAN", key, "0"), Is.EqualTo(r.Command(zset ? "ZSCAN" : "SSCAN", key, "0")));
            return;
        }
        var seen = new HashSet<string>();
        string cursor = "0";
        int steps = 0;
        do
        {
            var reply = (object?[])p.Call(zset ? "ZSCAN" : "SSCAN", key, cursor, "COUNT", "3")!;
            cursor = (string)reply[0]!;
            var items = ((object?[])reply[1]!).Cast<string>().ToArray();
            for (int i = 0; i < items.Length; i += zset ? 2 : 1)
                seen.Add(zset ? items[i] + "=" + items[i + 1] : items[i]);
            Assert.That(++steps, Is.LessThan(1000));
        }
        while (cursor != "0");
        var expected = zset ? Pairs((object?[])r.Call("ZRANGE", key, "0", "-1", "WITHSCORES")!) : ((object?[])r.Call("SMEMBERS", key)!).Cast<string>();
        Assert.That(seen.Order(), Is.EqualTo(expected.Order()), string.Join('\n', log.TakeLast(10)));
    }

    private static IEnumerable<string> Pairs(object?[] flat)
    {
        for (int i = 0; i < flat.Length; i += 2)
            yield return flat[i] + "=" + flat[i + 1];
    }

    private static string Text(object? value) => value switch
    {
        null => "(nil)",
        object?[] array => "[" + string.Join(",", array.Select(Text)) + "]",
        _ => value.ToString()!,
    };

    /// <summary>The reply with the elements of a flat array reply sorted (errors and scalars unchanged).</summary>
    private static string Sorted(string reply)
    {
        if (!reply.StartsWith('*'))
            return reply;
        var lines = reply.Split("\r\n");
        var items = new List<string>();
        for (int i = 1; i + 1 < lines.Length; i += 2)
            items.Add(lines[i] + "\r\n" + lines[i + 1]);
        items.Sort(StringComparer.Ordinal);
        return lines[0] + "\r\n" + string.Concat(items.Select(x => x + "\r\n"));
    }
}

internal static class RawClientCallExtensions
{
    public static object? ReadValueOf(this RawClient client, string[] command) => client.Call(command);
}
