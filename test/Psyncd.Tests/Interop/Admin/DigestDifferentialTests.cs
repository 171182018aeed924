using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Admin;

/// <summary>
/// DEBUG DIGEST and DEBUG DIGEST-VALUE compared with redis-server 7.0 on equal data: the same commands go to
/// both servers, then both digests must be the same hex digits, for every type and encoding, TTLs, several
/// databases and the empty dataset. The tests of this fixture each flush both servers (the digest covers
/// everything), so they run one after the other.
/// </summary>
[Category("Interop")]
[NonParallelizable]
public class DigestDifferentialTests : DifferentialFixture
{
    protected override string[] ServerArgs => ["--enable-debug-command", "yes"];

    private RawClient _p = null!;
    private RawClient _r = null!;

    [SetUp]
    public void Connect()
    {
        _p = _psyncd.Connect();
        _r = _redis.Connect();
        Both("FLUSHALL");
    }

    [TearDown]
    public void Disconnect()
    {
        _p.Dispose();
        _r.Dispose();
    }

    /// <summary>Sends the command to both servers and asserts the replies are the same bytes.</summary>
    private string Both(params string[] command)
    {
        string mine = _p.Command(command);
        Assert.That(mine, Is.EqualTo(_r.Command(command)), string.Join(' ', command));
        return mine;
    }

    private void DigestsAgree(params string[] keys)
    {
        string digest = Both("DEBUG", "DIGEST");
        Assert.That(digest, Is.Not.EqualTo("+" + new string('0', 40) + "\r\n"), "a dataset with keys has a non-zero digest");
        if (keys.Length > 0)
            Both(["DEBUG", "DIGEST-VALUE", .. keys]);
    }

    [Test]
    public void EmptyDatasetIsFortyZeros()
    {
        Assert.That(Both("DEBUG", "DIGEST"), Is.EqualTo("+" + new string('0', 40) + "\r\n"));
        Assert.That(Both("DEBUG", "DIGEST-VALUE", "missing", "also-missing"),
            Is.EqualTo("*2\r\n+" + new string('0', 40) + "\r\n+" + new string('0', 40) + "\r\n"));
    }

    [Test]
    public void StringsOfEveryEncoding()
    {
        Both("SET", "s:plain", "hello");
        Both("SET", "s:int", "12345");
        Both("SET", "s:negative", "-9223372036854775808");
        Both("SET", "s:not-canonical", "007");
        Both("SET", "s:long", new string('x', 300));
        Both("SET", "s:empty", "");
        Both("INCR", "s:counter");
        Both("INCRBYFLOAT", "s:float", "1.5");
        Both("APPEND", "s:appended", "abc");
        Both("SETRANGE", "s:binary", "5", "\u0000\u00ff\r\n");
        DigestsAgree("s:plain", "s:int", "s:negative", "s:not-canonical", "s:long", "s:empty", "s:counter", "s:float", "s:binary", "missing");
    }

    [Test]
    public void ListsSmallAndLarge()
    {
        Both("RPUSH", "l:small", "a", "b", "1", "-2", "a");
        var many = new List<string> { "RPUSH", "l:large" };
        for (int i = 0; i < 300; i++)
            many.Add(i % 3 == 0 ? i.ToString() : "item-" + i + new string('v', i % 70));
        Both(many.ToArray());
        Both("LPUSH", "l:large", "head");
        Both("RPUSH", "l:order", "x", "y");
        Both("RPUSH", "l:reversed", "y", "x");
        DigestsAgree("l:small", "l:large", "l:order", "l:reversed");
        Assert.That(Both("DEBUG", "DIGEST-VALUE", "l:order"), Is.Not.EqualTo(Both("DEBUG", "DIGEST-VALUE", "l:reversed")), "lists digest in order");
    }

    [Test]
    public void HashesSmallAndLarge()
    {
        Both("HSET", "h:small", "f1", "v1", "f2", "2", "3", "v3");
        var many = new List<string> { "HSET", "h:large" };
        for (int i = 0; i < 200; i++)
            many.AddRange(new[] { "field-" + i, i % 2 == 0 ? i.ToString() : "value-" + new string('w', i % 80) });
        Both(many.ToArray());
        Both("HSET", "h:bigvalue", "f", new string('z', 100));
        Both("HINCRBY", "h:small", "counter", "7");
        Both("HINCRBYFLOAT", "h:small", "float", "0.1");
        DigestsAgree("h:small", "h:large", "h:bigvalue");
    }

    [Test]
    public void SetsOfIntegersAndStrings()
    {
        Both("SADD", "set:ints", "1", "2", "3", "-100", "9223372036854775807");
        Both("SADD", "set:strings", "a", "b", "c");
        var many = new List<string> { "SADD", "set:large" };
        for (int i = 0; i < 600; i++)
            many.Add(i % 2 == 0 ? i.ToString() : "m" + i);
        Both(many.ToArray());
        var ints = new List<string> { "SADD", "set:manyints" };
        for (int i = 0; i < 600; i++)
            ints.Add((i * 7).ToString());
        Both(ints.ToArray());
        DigestsAgree("set:ints", "set:strings", "set:large", "set:manyints");
    }

    [Test]
    public void SortedSetsWithEveryKindOfScore()
    {
        Both("ZADD", "z:small", "0.1", "a", "1.5", "b", "3", "c", "-0", "d", "inf", "e", "-inf", "f", "1e300", "g", "-2.5e-10", "h", "12", "13");
        var many = new List<string> { "ZADD", "z:large" };
        for (int i = 0; i < 300; i++)
            many.AddRange(new[] { (i / 7.0).ToString("R", System.Globalization.CultureInfo.InvariantCulture), i % 2 == 0 ? i.ToString() : "member-" + i });
        Both(many.ToArray());
        Both("ZADD", "z:longmember", "1", new string('q', 100));
        Both("ZINCRBY", "z:small", "0.2", "a");
        DigestsAgree("z:small", "z:large", "z:longmember");
    }

    [Test]
    public void KeysWithTimeToLive()
    {
        Both("SET", "t:string", "v", "EX", "1000");
        Both("RPUSH", "t:list", "a");
        Both("EXPIRE", "t:list", "1000");
        Both("SADD", "t:set", "a", "1");
        Both("PEXPIRE", "t:set", "5000000");
        Both("HSET", "t:hash", "f", "v");
        Both("EXPIREAT", "t:hash", "4000000000");
        Both("ZADD", "t:zset", "1", "a");
        Both("EXPIRE", "t:zset", "1000");
        Both("SET", "t:persisted", "v", "EX", "1000");
        Both("PERSIST", "t:persisted");
        DigestsAgree("t:string", "t:list", "t:set", "t:hash", "t:zset", "t:persisted");
    }

    [Test]
    public void SeveralDatabases()
    {
        Both("SET", "same", "value");
        Both("SELECT", "3");
        Both("SET", "same", "value");
        Both("HSET", "h", "f", "v");
        Both("SELECT", "15");
        Both("SADD", "s", "x");
        DigestsAgree("s", "same");
        Both("SELECT", "0");
        DigestsAgree("same");
        Both("MOVE", "same", "5");
        DigestsAgree("same");
    }

    [Test]
    public void RandomCommandsOverEveryType()
    {
        var rng = new Random(20261201);
        for (int i = 0; i < 1500; i++)
        {
            string key = "k" + rng.Next(40);
            string member = rng.Next(3) == 0 ? rng.Next(-50, 1000).ToString() : "m" + rng.Next(200);
            string[] command = rng.Next(16) switch
            {
                0 => new[] { "SET", key, member },
                1 => new[] { "RPUSH", "l" + key, member },
                2 => new[] { "LPOP", "l" + key },
                3 => new[] { "SADD", "s" + key, member },
                4 => new[] { "SREM", "s" + key, member },
                5 => new[] { "HSET", "h" + key, member, rng.Next(1000).ToString() },
                6 => new[] { "HDEL", "h" + key, member },
                7 => new[] { "ZADD", "z" + key, (rng.NextDouble() * 100 - 50).ToString("R", System.Globalization.CultureInfo.InvariantCulture), member },
                8 => new[] { "ZINCRBY", "z" + key, "0.3", member },
                9 => new[] { "ZREM", "z" + key, member },
                10 => new[] { "EXPIRE", key, "10000" },
                11 => new[] { "PERSIST", "s" + key },
                12 => new[] { "SELECT", rng.Next(3).ToString() },
                13 => new[] { "INCRBY", "n" + key, rng.Next(-5, 5).ToString() },
                14 => new[] { "HINCRBY", "h" + key, member, "3" },
                _ => new[] { "DEL", key },
            };
            Both(command);
        }
        Both("SELECT", "0");
        DigestsAgree();
        var keys = new List<string> { "DEBUG", "DIGEST-VALUE" };
        for (int i = 0; i < 40; i++)
            keys.AddRange(new[] { "k" + i, "lk" + i, "sk" + i, "hk" + i, "zk" + i, "nk" + i });
        Both(keys.ToArray());
    }
}
