using Psyncd.Tests.Support;
using StackExchange.Redis;

namespace Psyncd.Tests.Integration.Commands;

/// <summary>Hash commands over TCP: exact replies and errors (as redis-server 7.0.15 writes them), HSCAN, and StackExchange.Redis usage.</summary>
public class HashCommandsTests : PsyncdFixture
{
    [Test]
    public void SetGetAndDelete()
    {
        Assert.That(Do("HSET", "h:b", "f1", "v1", "f2", "v2"), Is.EqualTo(":2\r\n"));
        Assert.That(Do("HSET", "h:b", "f1", "V1", "f3", "v3"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("HSET", "h:b", "f1"), Is.EqualTo("-ERR wrong number of arguments for 'hset' command\r\n"));
        Assert.That(Do("HSET", "h:b", "f1", "v", "f2"), Is.EqualTo("-ERR wrong number of arguments for 'hset' command\r\n"));
        Assert.That(Do("HMSET", "h:b", "f4", "v4"), Is.EqualTo("+OK\r\n"));
        Assert.That(Do("HMSET", "h:b", "f4", "v4", "x"), Is.EqualTo("-ERR wrong number of arguments for 'hmset' command\r\n"));
        Assert.That(Do("HSETNX", "h:b", "f4", "other"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("HSETNX", "h:b", "f5", ""), Is.EqualTo(":1\r\n"));
        Assert.That(Do("HGET", "h:b", "f1"), Is.EqualTo("$2\r\nV1\r\n"));
        Assert.That(Do("HGET", "h:b", "f5"), Is.EqualTo("$0\r\n\r\n"));
        Assert.That(Do("HGET", "h:b", "nope"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("HGET", "h:missing", "f"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("HMGET", "h:b", "f1", "nope", "f4"), Is.EqualTo("*3\r\n$2\r\nV1\r\n$-1\r\n$2\r\nv4\r\n"));
        Assert.That(Do("HMGET", "h:missing", "a", "b"), Is.EqualTo("*2\r\n$-1\r\n$-1\r\n"));
        Assert.That(Do("HLEN", "h:b"), Is.EqualTo(":5\r\n"));
        Assert.That(Do("HSTRLEN", "h:b", "f3"), Is.EqualTo(":2\r\n"));
        Assert.That(Do("HSTRLEN", "h:b", "nope"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("HEXISTS", "h:b", "f2"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("HEXISTS", "h:b", "nope"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("HDEL", "h:b", "f1", "f1", "nope", "f2"), Is.EqualTo(":2\r\n"));
        Assert.That(Do("HDEL", "h:b", "f3", "f4", "f5"), Is.EqualTo(":3\r\n"));
        Assert.That(Do("EXISTS", "h:b"), Is.EqualTo(":0\r\n"), "an emptied hash is deleted");
        Assert.That(Do("HDEL", "h:b", "f1"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("HLEN", "h:b"), Is.EqualTo(":0\r\n"));
    }

    [Test]
    public void GetAllKeysAndValues()
    {
        Do("HSET", "h:all", "a", "1", "b", "2", "c", "3");
        var all = (object?[])Client.Call("HGETALL", "h:all")!;
        var pairs = Enumerable.Range(0, all.Length / 2).Select(i => (string)all[2 * i]! + "=" + (string)all[2 * i + 1]!).Order();
        Assert.That(pairs, Is.EqualTo(new[] { "a=1", "b=2", "c=3" }));
        Assert.That(((object?[])Client.Call("HKEYS", "h:all")!).Cast<string>().Order(), Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That(((object?[])Client.Call("HVALS", "h:all")!).Cast<string>().Order(), Is.EqualTo(new[] { "1", "2", "3" }));
        Assert.That(Do("HGETALL", "h:none"), Is.EqualTo("*0\r\n"));
        Assert.That(Do("HKEYS", "h:none"), Is.EqualTo("*0\r\n"));
        Assert.That(Do("HVALS", "h:none"), Is.EqualTo("*0\r\n"));
    }

    [Test]
    public void IncrementsWithRedisRulesAndErrors()
    {
        Assert.That(Do("HINCRBY", "h:i", "n", "5"), Is.EqualTo(":5\r\n"));
        Assert.That(Do("HINCRBY", "h:i", "n", "-7"), Is.EqualTo(":-2\r\n"));
        Assert.That(Do("HINCRBY", "h:i", "n", "x"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"));
        Do("HSET", "h:i", "s", "abc", "big", "9223372036854775807");
        Assert.That(Do("HINCRBY", "h:i", "s", "1"), Is.EqualTo("-ERR hash value is not an integer\r\n"));
        Assert.That(Do("HINCRBY", "h:i", "big", "1"), Is.EqualTo("-ERR increment or decrement would overflow\r\n"));
        Assert.That(Do("HINCRBYFLOAT", "h:i", "f", "10.5"), Is.EqualTo("$4\r\n10.5\r\n"));
        Assert.That(Do("HINCRBYFLOAT", "h:i", "f", "0.1"), Is.EqualTo("$4\r\n10.6\r\n"));
        Assert.That(Do("HINCRBYFLOAT", "h:i", "g", "0.1"), Is.EqualTo("$3\r\n0.1\r\n"));
        Assert.That(Do("HINCRBYFLOAT", "h:i", "g", "0.2"), Is.EqualTo("$3\r\n0.3\r\n"), "long double arithmetic, as Redis");
        Assert.That(Do("HINCRBYFLOAT", "h:i", "m", "1000000.1"), Is.EqualTo("$25\r\n1000000.10000000000002274\r\n"), "%.17Lf of the long double, as Redis");
        Assert.That(Do("HINCRBYFLOAT", "h:i", "e", "5.0e3"), Is.EqualTo("$4\r\n5000\r\n"));
        Assert.That(Do("HINCRBYFLOAT", "h:i", "x", "0x10"), Is.EqualTo("$2\r\n16\r\n"), "strtold's hex form");
        Assert.That(Do("HINCRBYFLOAT", "h:i", "s", "1"), Is.EqualTo("-ERR hash value is not a float\r\n"));
        Assert.That(Do("HINCRBYFLOAT", "h:i", "f", "abc"), Is.EqualTo("-ERR value is not a valid float\r\n"));
        Assert.That(Do("HINCRBYFLOAT", "h:i", "f", "inf"), Is.EqualTo("-ERR value is NaN or Infinity\r\n"));
        Assert.That(Do("HINCRBYFLOAT", "h:i", "n", "-2"), Is.EqualTo("$2\r\n-4\r\n"));
    }

    [Test]
    public void EveryHashCommandRefusesAnotherType()
    {
        Do("RPUSH", "h:wrong", "x");
        string[][] commands =
        {
            new[] { "HSET", "h:wrong", "f", "v" }, new[] { "HMSET", "h:wrong", "f", "v" }, new[] { "HSETNX", "h:wrong", "f", "v" },
            new[] { "HGET", "h:wrong", "f" }, new[] { "HMGET", "h:wrong", "f" }, new[] { "HDEL", "h:wrong", "f" },
            new[] { "HLEN", "h:wrong" }, new[] { "HSTRLEN", "h:wrong", "f" }, new[] { "HEXISTS", "h:wrong", "f" },
            new[] { "HINCRBY", "h:wrong", "f", "1" }, new[] { "HINCRBYFLOAT", "h:wrong", "f", "1" }, new[] { "HKEYS", "h:wrong" },
            new[] { "HVALS", "h:wrong" }, new[] { "HGETALL", "h:wrong" }, new[] { "HSCAN", "h:wrong", "0" },
        };
        foreach (var command in commands)
            Assert.That(Do(command), Is.EqualTo("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"), command[0]);
        Assert.That(Do("LLEN", "h:wrong"), Is.EqualTo(":1\r\n"));
    }

    [Test]
    public void ScanOfACompactHashReturnsEverythingAtOnce()
    {
        Do("HSET", "h:scan", "a", "1", "b", "2", "ab", "3");
        var reply = (object?[])Client.Call("HSCAN", "h:scan", "0", "COUNT", "1")!;
        Assert.That(reply[0], Is.EqualTo("0"));
        Assert.That(((object?[])reply[1]!).Length, Is.EqualTo(6));
        Assert.That(Do("HSCAN", "h:scan", "0", "MATCH", "b"), Is.EqualTo("*2\r\n$1\r\n0\r\n*2\r\n$1\r\nb\r\n$1\r\n2\r\n"));
        Assert.That(Do("HSCAN", "h:scan", "x"), Is.EqualTo("-ERR invalid cursor\r\n"));
        Assert.That(Do("HSCAN", "h:scan", "18446744073709551616"), Is.EqualTo("-ERR invalid cursor\r\n"));
        Assert.That(Do("HSCAN", "h:scan", "0", "COUNT", "0"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("HSCAN", "h:scan", "0", "COUNT", "x"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"));
        Assert.That(Do("HSCAN", "h:scan", "0", "MATCH"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("HSCAN", "h:scan", "0", "NOVALUES"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("HSCAN", "h:none", "0"), Is.EqualTo("*2\r\n$1\r\n0\r\n*0\r\n"));
    }

    [Test]
    public void ScanOfALargeHashReturnsEveryFieldPresentThroughout()
    {
        // Fields present for the whole scan must be returned, although the table grows and shrinks meanwhile.
        var args = new List<string> { "HSET", "h:big" };
        for (int i = 0; i < 3000; i++)
        {
            args.Add("keep:" + i);
            args.Add("v" + i);
        }
        Do(args.ToArray());
        var seen = new HashSet<string>();
        string cursor = "0";
        int round = 0;
        do
        {
            var reply = (object?[])Client.Call("HSCAN", "h:big", cursor, "COUNT", "50")!;
            cursor = (string)reply[0]!;
            var items = (object?[])reply[1]!;
            for (int i = 0; i < items.Length; i += 2)
                seen.Add((string)items[i]!);
            round++;
            if (round == 5)
            {
                var grow = new List<string> { "HSET", "h:big" };
                for (int i = 0; i < 5000; i++)
                {
                    grow.Add("temp:" + i);
                    grow.Add("t");
                }
                Do(grow.ToArray());
            }
            if (round == 20)
            {
                var shrink = new List<string> { "HDEL", "h:big" };
                for (int i = 0; i < 5000; i++)
                    shrink.Add("temp:" + i);
                Do(shrink.ToArray());
            }
            Assert.That(round, Is.LessThan(10_000));
        }
        while (cursor != "0");
        for (int i = 0; i < 3000; i++)
            Assert.That(seen, Does.Contain("keep:" + i));
    }

    [Test]
    public void StackExchangeRedisHashOperations()
    {
        using var mux = StackExchangeClient.Connect(Server.Port, "version=2.8.24");
        var db = mux.GetDatabase();
        RedisKey key = "h:se";
        db.HashSet(key, new[] { new HashEntry("name", "psyncd"), new HashEntry("n", 1) });
        Assert.That(db.HashSet(key, "lang", "C#"), Is.True);
        Assert.That(db.HashSet(key, "lang", "C# 14"), Is.False);
        Assert.That((string?)db.HashGet(key, "name"), Is.EqualTo("psyncd"));
        Assert.That(db.HashIncrement(key, "n", 41), Is.EqualTo(42));
        Assert.That(db.HashIncrement(key, "f", 1.5), Is.EqualTo(1.5));
        Assert.That(db.HashLength(key), Is.EqualTo(4));
        Assert.That(db.HashExists(key, "lang"), Is.True);
        var all = db.HashGetAll(key).ToDictionary(e => (string)e.Name!, e => (string?)e.Value);
        Assert.That(all, Is.EquivalentTo(new Dictionary<string, string?> { ["name"] = "psyncd", ["n"] = "42", ["lang"] = "C# 14", ["f"] = "1.5" }));
        Assert.That(db.HashKeys(key).Select(k => (string?)k).Order(), Is.EqualTo(new[] { "f", "lang", "n", "name" }));
        Assert.That(db.HashScan(key, "n*").Select(e => (string)e.Name!).Order(), Is.EqualTo(new[] { "n", "name" }));
        Assert.That(db.HashGet(key, new RedisValue[] { "name", "missing" }).Select(v => (string?)v), Is.EqualTo(new[] { "psyncd", null }));
        Assert.That(db.HashDelete(key, new RedisValue[] { "name", "n", "missing" }), Is.EqualTo(2));
        Assert.That(db.HashValues(key).Select(v => (string?)v).Order(), Is.EqualTo(new[] { "1.5", "C# 14" }));
    }
}
