using System.Diagnostics;
using Psyncd.Tests.Support;
using StackExchange.Redis;

namespace Psyncd.Tests.Integration.Commands;

/// <summary>The generic key commands, reply byte for reply byte (texts checked against redis-server 7.0.15).</summary>
public class KeyCommandsTests : PsyncdFixture
{
    [Test]
    public void RenameMovesValueAndTimeToLive()
    {
        var set = Stopwatch.StartNew();
        Do("SET", "rn:a", "1", "EX", "100");
        Do("SET", "rn:b", "old");
        Assert.That(Do("RENAME", "rn:a", "rn:b"), Is.EqualTo("+OK\r\n"));
        Assert.That(Do("GET", "rn:b"), Is.EqualTo("$1\r\n1\r\n"));
        AssertTtl("rn:b", 100, set);
        Assert.That(Do("EXISTS", "rn:a"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("RENAME", "rn:a", "rn:c"), Is.EqualTo("-ERR no such key\r\n"));
        Assert.That(Do("RENAME", "rn:b", "rn:b"), Is.EqualTo("+OK\r\n"));
        Assert.That(Do("GET", "rn:b"), Is.EqualTo("$1\r\n1\r\n"));
    }

    [Test]
    public void RenameNxRefusesAnExistingDestination()
    {
        Do("SET", "rnx:a", "1");
        Do("SET", "rnx:b", "2");
        Assert.That(Do("RENAMENX", "rnx:a", "rnx:b"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("RENAMENX", "rnx:a", "rnx:a"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("RENAMENX", "rnx:a", "rnx:c"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("MGET", "rnx:a", "rnx:c"), Is.EqualTo("*2\r\n$-1\r\n$1\r\n1\r\n"));
        Assert.That(Do("RENAMENX", "rnx:none", "rnx:d"), Is.EqualTo("-ERR no such key\r\n"));
    }

    [Test]
    public void RenameOfLargeValueKeepsItsBytes()
    {
        var big = new string('q', 50_000);
        Do("SET", "rnl:a", big);
        Assert.That(Do("RENAME", "rnl:a", "rnl:b"), Is.EqualTo("+OK\r\n"));
        Assert.That(Do("GET", "rnl:b"), Is.EqualTo("$50000\r\n" + big + "\r\n"));
    }

    [Test]
    public void MoveToAnotherDatabase()
    {
        using var c = Server.Connect();
        c.Command("SELECT", "2");
        var sinceSet = System.Diagnostics.Stopwatch.StartNew();
        c.Command("SET", "mv:a", "1", "EX", "100");
        Assert.That(c.Command("MOVE", "mv:a", "3"), Is.EqualTo(":1\r\n"));
        Assert.That(c.Command("EXISTS", "mv:a"), Is.EqualTo(":0\r\n"));
        Assert.That(c.Command("MOVE", "mv:a", "3"), Is.EqualTo(":0\r\n"));
        c.Command("SET", "mv:a", "2");
        Assert.That(c.Command("MOVE", "mv:a", "3"), Is.EqualTo(":0\r\n"), "the target database has the key");
        Assert.That(c.Command("MOVE", "mv:a", "2"), Is.EqualTo("-ERR source and destination objects are the same\r\n"));
        Assert.That(c.Command("MOVE", "mv:a", "16"), Is.EqualTo("-ERR DB index is out of range\r\n"));
        Assert.That(c.Command("MOVE", "mv:a", "x"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"));
        c.Command("SELECT", "3");
        Assert.That(c.Command("GET", "mv:a"), Is.EqualTo("$1\r\n1\r\n"));
        // The TTL moved with the key, less only the time that really passed since SET (TTL's rounded seconds
        // read 99 once half a second had passed, as on a loaded machine).
        long pttl = long.Parse(c.Command("PTTL", "mv:a")[1..^2]);
        Assert.That(pttl, Is.InRange(100_000 - sinceSet.ElapsedMilliseconds - 1, 100_000));
    }

    [Test]
    public void ExpireTtlPersist()
    {
        Do("SET", "ex:a", "v");
        Assert.That(Do("TTL", "ex:a"), Is.EqualTo(":-1\r\n"));
        Assert.That(Do("PTTL", "ex:a"), Is.EqualTo(":-1\r\n"));
        Assert.That(Do("TTL", "ex:none"), Is.EqualTo(":-2\r\n"));
        var set = Stopwatch.StartNew();
        Assert.That(Do("EXPIRE", "ex:a", "100"), Is.EqualTo(":1\r\n"));
        AssertTtl("ex:a", 100, set);
        set.Restart();
        Assert.That(Do("PEXPIRE", "ex:a", "50000"), Is.EqualTo(":1\r\n"));
        AssertTtl("ex:a", 50, set);
        long at = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 200;
        Assert.That(Do("EXPIREAT", "ex:a", at.ToString()), Is.EqualTo(":1\r\n"));
        Assert.That(long.Parse(Do("TTL", "ex:a")[1..^2]), Is.InRange(198, 200));
        Assert.That(Do("PEXPIREAT", "ex:a", ((at + 100) * 1000).ToString()), Is.EqualTo(":1\r\n"));
        Assert.That(long.Parse(Do("TTL", "ex:a")[1..^2]), Is.InRange(298, 300));
        Assert.That(Do("PERSIST", "ex:a"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("PERSIST", "ex:a"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("PERSIST", "ex:none"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("EXPIRE", "ex:none", "100"), Is.EqualTo(":0\r\n"));
    }

    [Test]
    public void ExpireInThePastDeletes()
    {
        Do("SET", "exp:a", "v");
        Assert.That(Do("EXPIRE", "exp:a", "-1"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("EXISTS", "exp:a"), Is.EqualTo(":0\r\n"));
        Do("SET", "exp:b", "v");
        Assert.That(Do("PEXPIREAT", "exp:b", "1"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("EXISTS", "exp:b"), Is.EqualTo(":0\r\n"));
    }

    [Test]
    public void ShortExpiryEndsTheKey()
    {
        Do("SET", "exs:a", "v");
        Assert.That(Do("PEXPIRE", "exs:a", "50"), Is.EqualTo(":1\r\n"));
        Eventually.True(() => Do("EXISTS", "exs:a") == ":0\r\n", TimeSpan.FromSeconds(10), "the key expires");
        Assert.That(Do("TTL", "exs:a"), Is.EqualTo(":-2\r\n"));
    }

    [Test]
    public void ExpireOptionsNxXxGtLt()
    {
        Do("SET", "exo:a", "v");
        Assert.That(Do("EXPIRE", "exo:a", "100", "XX"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("EXPIRE", "exo:a", "100", "GT"), Is.EqualTo(":0\r\n"), "no TTL counts as infinite");
        Assert.That(Do("EXPIRE", "exo:a", "100", "NX"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("EXPIRE", "exo:a", "200", "NX"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("EXPIRE", "exo:a", "50", "GT"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("EXPIRE", "exo:a", "300", "gt"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("EXPIRE", "exo:a", "400", "LT"), Is.EqualTo(":0\r\n"));
        var set = Stopwatch.StartNew();
        Assert.That(Do("EXPIRE", "exo:a", "150", "LT", "XX"), Is.EqualTo(":1\r\n"));
        AssertTtl("exo:a", 150, set);
        Assert.That(Do("EXPIRE", "exo:a", "100", "NX", "XX"), Is.EqualTo("-ERR NX and XX, GT or LT options at the same time are not compatible\r\n"));
        Assert.That(Do("EXPIRE", "exo:a", "100", "GT", "LT"), Is.EqualTo("-ERR GT and LT options at the same time are not compatible\r\n"));
        Assert.That(Do("EXPIRE", "exo:a", "100", "foo"), Is.EqualTo("-ERR Unsupported option foo\r\n"));
        Assert.That(Do("EXPIRE", "exo:a", "x"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"));
        Assert.That(Do("EXPIRE", "exo:a", "9223372036854775807"), Is.EqualTo("-ERR invalid expire time in 'expire' command\r\n"));
        Assert.That(Do("PEXPIRE", "exo:a", "9223372036854775807"), Is.EqualTo("-ERR invalid expire time in 'pexpire' command\r\n"));
        Assert.That(Do("EXPIREAT", "exo:a", "9223372036854775807"), Is.EqualTo("-ERR invalid expire time in 'expireat' command\r\n"));
    }

    [Test]
    public void KeysMatchesGlobPatterns()
    {
        using var c = Server.Connect();
        c.Command("SELECT", "5");
        foreach (var k in new[] { "hello", "hallo", "hxllo", "world", "h*llo" })
            c.Command("SET", k, "v");
        c.Command("SET", "gone", "v", "PX", "1");
        Eventually.True(() => Sorted(c.Call("KEYS", "g*")).Length == 0, TimeSpan.FromSeconds(10), "the expired key is not listed");
        Assert.That(Sorted(c.Call("KEYS", "*")), Is.EqualTo(new[] { "h*llo", "hallo", "hello", "hxllo", "world" }));
        Assert.That(Sorted(c.Call("KEYS", "h[ae]llo")), Is.EqualTo(new[] { "hallo", "hello" }));
        Assert.That(Sorted(c.Call("KEYS", "h\\*llo")), Is.EqualTo(new[] { "h*llo" }));
        Assert.That(Sorted(c.Call("KEYS", "nothing*")), Is.Empty);
    }

    [Test]
    public void ScanVisitsEveryKeyOnceOverAllCalls()
    {
        using var c = Server.Connect();
        c.Command("SELECT", "6");
        for (int i = 0; i < 500; i++)
            c.Command("SET", "sc:" + i, i.ToString());
        c.Command("SET", "other", "v");
        var seen = new HashSet<string>();
        string cursor = "0";
        int calls = 0;
        do
        {
            var reply = (object?[])c.Call("SCAN", cursor, "MATCH", "sc:*", "COUNT", "20")!;
            cursor = (string)reply[0]!;
            foreach (var key in (object?[])reply[1]!)
                seen.Add((string)key!);
            calls++;
        }
        while (cursor != "0" && calls < 10_000);
        Assert.That(seen, Has.Count.EqualTo(500));
        Assert.That(calls, Is.GreaterThan(1), "COUNT bounds each call");

        Assert.That(FullScan(c, "TYPE", "STRING"), Has.Count.EqualTo(501));
        Assert.That(FullScan(c, "TYPE", "list"), Is.Empty);
        Assert.That(FullScan(c, "MATCH", "oth*", "COUNT", "3"), Is.EquivalentTo(new[] { "other" }));
    }

    private static List<string> FullScan(RawClient c, params string[] options)
    {
        var keys = new List<string>();
        string cursor = "0";
        for (int calls = 0; calls < 10_000; calls++)
        {
            var reply = (object?[])c.Call(new[] { "SCAN", cursor }.Concat(options).ToArray())!;
            cursor = (string)reply[0]!;
            foreach (var key in (object?[])reply[1]!)
                keys.Add((string)key!);
            if (cursor == "0")
                break;
        }
        return keys.Distinct().ToList();
    }

    [Test]
    public void ScanRejectsBadArguments()
    {
        Assert.That(Do("SCAN", "x"), Is.EqualTo("-ERR invalid cursor\r\n"));
        Assert.That(Do("SCAN", " 1"), Is.EqualTo("-ERR invalid cursor\r\n"));
        Assert.That(Do("SCAN", "18446744073709551616"), Is.EqualTo("-ERR invalid cursor\r\n"));
        Assert.That(Do("SCAN", "0", "COUNT", "0"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("SCAN", "0", "COUNT", "x"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"));
        Assert.That(Do("SCAN", "0", "MATCH"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("SCAN", "0", "FOO", "bar"), Is.EqualTo("-ERR syntax error\r\n"));
    }

    [Test]
    public void RandomKeyOnEmptyAndNonEmptyDatabase()
    {
        using var c = Server.Connect();
        c.Command("SELECT", "7");
        Assert.That(c.Command("RANDOMKEY"), Is.EqualTo("$-1\r\n"));
        c.Command("SET", "only", "v");
        Assert.That(c.Command("RANDOMKEY"), Is.EqualTo("$4\r\nonly\r\n"));
        c.Command("SET", "second", "v");
        var picks = new HashSet<string>();
        for (int i = 0; i < 200 && picks.Count < 2; i++)
            picks.Add((string)c.Call("RANDOMKEY")!);
        Assert.That(picks, Is.EquivalentTo(new[] { "only", "second" }));
    }

    [Test]
    public void ObjectSubcommands()
    {
        Do("SET", "ob:int", "1234");
        Do("SET", "ob:big", "12345678901");
        Do("SET", "ob:str", "hello");
        Do("SET", "ob:raw", new string('r', 45));
        Assert.That(Do("OBJECT", "ENCODING", "ob:int"), Is.EqualTo("$3\r\nint\r\n"));
        Assert.That(Do("OBJECT", "encoding", "ob:str"), Is.EqualTo("$6\r\nembstr\r\n"));
        Assert.That(Do("OBJECT", "ENCODING", "ob:raw"), Is.EqualTo("$3\r\nraw\r\n"));
        Assert.That(Do("OBJECT", "ENCODING", "ob:none"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("OBJECT", "REFCOUNT", "ob:int"), Is.EqualTo(":2147483647\r\n"), "a shared integer");
        Assert.That(Do("OBJECT", "REFCOUNT", "ob:big"), Is.EqualTo(":1\r\n"));
        // Written and read in one batch: on a loaded machine a second could pass between two round trips.
        Client.SendRaw(RawClient.Encode(new[] { "SET", "ob:str", "hello" }.Select(System.Text.Encoding.ASCII.GetBytes).ToArray())
            .Concat(RawClient.Encode(new[] { "OBJECT", "IDLETIME", "ob:str" }.Select(System.Text.Encoding.ASCII.GetBytes).ToArray())).ToArray());
        Assert.That(Client.ReadReply(), Is.EqualTo("+OK\r\n"));
        Assert.That(Client.ReadReply(), Is.EqualTo(":0\r\n"));
        Assert.That(Do("OBJECT", "FREQ", "ob:str"), Does.StartWith("-ERR An LFU maxmemory policy is not selected"));
        Assert.That(Do("OBJECT", "ENCODING"), Is.EqualTo("-ERR wrong number of arguments for 'object|encoding' command\r\n"));
        Assert.That(Do("OBJECT", "FOO", "ob:str"), Is.EqualTo("-ERR unknown subcommand 'FOO'. Try OBJECT HELP.\r\n"));
        Assert.That(Do("OBJECT"), Is.EqualTo("-ERR wrong number of arguments for 'object' command\r\n"));
        var help = (object?[])Client.Call("OBJECT", "HELP")!;
        Assert.That(help[0], Is.EqualTo("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"));
        Assert.That(help[^1], Is.EqualTo("    Prints this help."));
    }

    [Test]
    public void ObjectEncodingFollowsHowTheStringWasMade()
    {
        Do("SET", "enc:a", "1234");
        Assert.That(Do("OBJECT", "ENCODING", "enc:a"), Is.EqualTo("$3\r\nint\r\n"));
        Do("APPEND", "enc:a", "5");
        Assert.That(Do("OBJECT", "ENCODING", "enc:a"), Is.EqualTo("$3\r\nraw\r\n"), "APPEND makes the value raw");
        Assert.That(Do("OBJECT", "REFCOUNT", "enc:a"), Is.EqualTo(":1\r\n"));
        Do("INCR", "enc:a");
        Assert.That(Do("OBJECT", "ENCODING", "enc:a"), Is.EqualTo("$3\r\nint\r\n"), "INCR stores an integer");
        Do("APPEND", "enc:new", "12");
        Assert.That(Do("OBJECT", "ENCODING", "enc:new"), Is.EqualTo("$3\r\nint\r\n"), "APPEND to a missing key stores as SET does");
        Do("SETRANGE", "enc:new", "0", "3");
        Assert.That(Do("OBJECT", "ENCODING", "enc:new"), Is.EqualTo("$3\r\nraw\r\n"));
        Do("EXPIRE", "enc:new", "100");
        Assert.That(Do("OBJECT", "ENCODING", "enc:new"), Is.EqualTo("$3\r\nraw\r\n"), "a new time to live keeps the encoding");
        Do("RENAME", "enc:new", "enc:renamed");
        Assert.That(Do("OBJECT", "ENCODING", "enc:renamed"), Is.EqualTo("$3\r\nraw\r\n"));
        Do("SET", "enc:f", "1");
        Do("INCRBYFLOAT", "enc:f", "1");
        Assert.That(Do("OBJECT", "ENCODING", "enc:f"), Is.EqualTo("$6\r\nembstr\r\n"), "INCRBYFLOAT never stores an integer");
        Do("SET", "enc:b", "7");
        Do("SETBIT", "enc:b", "0", "0");
        Assert.That(Do("OBJECT", "ENCODING", "enc:b"), Is.EqualTo("$3\r\nraw\r\n"), "SETBIT makes the value raw even when the bit is unchanged");
        Do("SET", "enc:b", "7");
        Assert.That(Do("OBJECT", "ENCODING", "enc:b"), Is.EqualTo("$3\r\nint\r\n"));
    }

    [Test]
    public void StackExchangeRedisKeyApi()
    {
        using var mux = StackExchangeClient.Connect(Server.Port, "allowAdmin=true");
        var db = mux.GetDatabase(8);
        db.StringSet("se:a", "1");
        Assert.That(db.KeyExpire("se:a", TimeSpan.FromSeconds(100)), Is.True);
        Assert.That(db.KeyTimeToLive("se:a"), Is.GreaterThan(TimeSpan.FromSeconds(98)));
        Assert.That(db.KeyPersist("se:a"), Is.True);
        Assert.That(db.KeyTimeToLive("se:a"), Is.Null);
        Assert.That(db.KeyExpire("se:a", DateTime.UtcNow.AddHours(1)), Is.True);
        Assert.That(db.KeyTimeToLive("se:a"), Is.GreaterThan(TimeSpan.FromMinutes(59)));
        Assert.That(db.KeyRename("se:a", "se:b"), Is.True);
        Assert.That(db.KeyRename("se:b", "se:c", When.NotExists), Is.True);
        Assert.That(db.KeyExists("se:c"), Is.True);
        Assert.That(db.KeyMove("se:c", 9), Is.True);
        Assert.That(mux.GetDatabase(9).KeyExists("se:c"), Is.True);
        db.StringSet("se:d", "2");
        Assert.That((string?)db.KeyRandom(), Is.EqualTo("se:d"));
        Assert.That(db.KeyType("se:d"), Is.EqualTo(RedisType.String));
        var server = mux.GetServer("127.0.0.1", Server.Port);
        Assert.That(server.Keys(8, "se:*").Select(k => (string?)k), Is.EquivalentTo(new[] { "se:d" }));
        Assert.That(server.Keys(9, "*", pageSize: 1).Select(k => (string?)k), Is.EquivalentTo(new[] { "se:c" }));
    }

    private static string[] Sorted(object? reply)
    {
        var items = ((object?[])reply!).Select(o => (string)o!).ToArray();
        Array.Sort(items, StringComparer.Ordinal);
        return items;
    }
}
