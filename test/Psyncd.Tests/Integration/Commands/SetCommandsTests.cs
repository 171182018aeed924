using Psyncd.Tests.Support;
using StackExchange.Redis;

namespace Psyncd.Tests.Integration.Commands;

/// <summary>Set commands over TCP: exact replies and errors (as redis-server 7.0.15 gives them), and SE.Redis 1.2.6.</summary>
public class SetCommandsTests : PsyncdFixture
{
    private static string Bulk(string s) => "$" + s.Length + "\r\n" + s + "\r\n";

    private static string Array(params string[] bulks) => "*" + bulks.Length + "\r\n" + string.Concat(bulks.Select(Bulk));

    /// <summary>An array reply's elements, sorted (for replies whose order is unspecified).</summary>
    private string[] Members(params string[] args) => ((object?[])Client.Call(args)!).Cast<string>().Order(StringComparer.Ordinal).ToArray();

    [Test]
    public void AddRemoveCountAndMembership()
    {
        Assert.That(Do("SADD", "set:a", "x", "y", "x", "z"), Is.EqualTo(":3\r\n"));
        Assert.That(Do("SADD", "set:a", "y", "w"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("SCARD", "set:a"), Is.EqualTo(":4\r\n"));
        Assert.That(Do("SISMEMBER", "set:a", "w"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("SISMEMBER", "set:a", "q"), Is.EqualTo(":0\r\n"));
        Assert.That(Members("SMEMBERS", "set:a"), Is.EqualTo(new[] { "w", "x", "y", "z" }));
        Assert.That(Do("SREM", "set:a", "x", "q", "y"), Is.EqualTo(":2\r\n"));
        Assert.That(Do("SREM", "set:a", "w", "z"), Is.EqualTo(":2\r\n"));
        Assert.That(Do("EXISTS", "set:a"), Is.EqualTo(":0\r\n"), "an emptied set is deleted");
        Assert.That(Do("SCARD", "set:a"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("SMEMBERS", "set:a"), Is.EqualTo("*0\r\n"));
        Assert.That(Do("SREM", "set:a", "x"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("SADD", "set:a"), Is.EqualTo("-ERR wrong number of arguments for 'sadd' command\r\n"));
    }

    [Test]
    public void EveryCommandAnswersWrongTypeOnAString()
    {
        Do("SET", "set:str", "v");
        Do("SADD", "set:ok", "a");
        const string wrong = "-WRONGTYPE Operation against a key holding the wrong kind of value\r\n";
        string[][] commands =
        [
            ["SADD", "set:str", "a"], ["SREM", "set:str", "a"], ["SCARD", "set:str"], ["SISMEMBER", "set:str", "a"],
            ["SMEMBERS", "set:str"], ["SPOP", "set:str"], ["SPOP", "set:str", "2"], ["SRANDMEMBER", "set:str"],
            ["SRANDMEMBER", "set:str", "2"], ["SMOVE", "set:str", "set:ok", "a"], ["SMOVE", "set:ok", "set:str", "a"],
            ["SINTER", "set:ok", "set:str"], ["SUNION", "set:str"], ["SDIFF", "set:ok", "set:str"],
            ["SINTERSTORE", "set:d", "set:ok", "set:str"], ["SUNIONSTORE", "set:d", "set:str"], ["SDIFFSTORE", "set:d", "set:str"],
            ["SSCAN", "set:str", "0"],
        ];
        foreach (var command in commands)
            Assert.That(Do(command), Is.EqualTo(wrong), string.Join(' ', command));
        Assert.That(Do("GET", "set:str"), Is.EqualTo("$1\r\nv\r\n"));
    }

    [Test]
    public void SpopWithAndWithoutCount()
    {
        Assert.That(Do("SPOP", "set:none"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("SPOP", "set:none", "3"), Is.EqualTo("*0\r\n"));
        Do("SADD", "set:pop", "a", "b", "c", "d", "e");
        Assert.That(Do("SPOP", "set:pop", "-1"), Is.EqualTo("-ERR value is out of range, must be positive\r\n"));
        Assert.That(Do("SPOP", "set:pop", "x"), Is.EqualTo("-ERR value is out of range, must be positive\r\n"), "redis-server 7.0.15 has one text for both");
        Assert.That(Do("SPOP", "set:pop", "1", "2"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("SPOP", "set:pop", "0"), Is.EqualTo("*0\r\n"));
        var one = (string)Client.Call("SPOP", "set:pop")!;
        Assert.That(new[] { "a", "b", "c", "d", "e" }, Does.Contain(one));
        var two = ((object?[])Client.Call("SPOP", "set:pop", "2")!).Cast<string>().ToArray();
        Assert.That(two, Has.Length.EqualTo(2).And.Not.Contains(one));
        Assert.That(Do("SCARD", "set:pop"), Is.EqualTo(":2\r\n"));
        var rest = ((object?[])Client.Call("SPOP", "set:pop", "10")!).Cast<string>().ToArray();
        Assert.That(rest.Concat(two).Append(one).Order(), Is.EqualTo(new[] { "a", "b", "c", "d", "e" }));
        Assert.That(Do("EXISTS", "set:pop"), Is.EqualTo(":0\r\n"));
    }

    [Test]
    public void SrandmemberCounts()
    {
        Assert.That(Do("SRANDMEMBER", "set:none"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("SRANDMEMBER", "set:none", "5"), Is.EqualTo("*0\r\n"));
        for (int i = 0; i < 100; i++)
            Do("SADD", "set:rand", "m" + i);
        Assert.That(Do("SRANDMEMBER", "set:rand", "0"), Is.EqualTo("*0\r\n"));
        var distinct = Members("SRANDMEMBER", "set:rand", "40");
        Assert.That(distinct, Has.Length.EqualTo(40).And.Unique);
        var most = Members("SRANDMEMBER", "set:rand", "90");
        Assert.That(most, Has.Length.EqualTo(90).And.Unique);
        Assert.That(Members("SRANDMEMBER", "set:rand", "1000"), Has.Length.EqualTo(100).And.Unique);
        var repeated = Members("SRANDMEMBER", "set:rand", "-300");
        Assert.That(repeated, Has.Length.EqualTo(300));
        Assert.That(repeated.All(m => m.StartsWith('m')), Is.True);
        Assert.That(Do("SCARD", "set:rand"), Is.EqualTo(":100\r\n"), "SRANDMEMBER removes nothing");
        Assert.That(Do("SRANDMEMBER", "set:rand", "-9223372036854775808"),
            Is.EqualTo("-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807\r\n"));
        Assert.That(Do("SRANDMEMBER", "set:rand", "1", "2"), Is.EqualTo("-ERR syntax error\r\n"));
    }

    [Test]
    public void SmoveBetweenSets()
    {
        Do("SADD", "set:src", "a", "b");
        Do("SET", "set:string", "x");
        Assert.That(Do("SMOVE", "set:nosrc", "set:string", "a"), Is.EqualTo(":0\r\n"), "a missing source wins over a wrong destination");
        Assert.That(Do("SMOVE", "set:src", "set:dst", "q"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("SMOVE", "set:src", "set:src", "a"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("SMOVE", "set:src", "set:dst", "a"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("SMOVE", "set:src", "set:dst", "b"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("EXISTS", "set:src"), Is.EqualTo(":0\r\n"));
        Assert.That(Members("SMEMBERS", "set:dst"), Is.EqualTo(new[] { "a", "b" }));
    }

    [Test]
    public void AlgebraAndStore()
    {
        Do("SADD", "set:x", "1", "2", "3", "4");
        Do("SADD", "set:y", "3", "4", "5");
        Assert.That(Members("SINTER", "set:x", "set:y"), Is.EqualTo(new[] { "3", "4" }));
        Assert.That(Members("SINTER", "set:x", "set:missing"), Is.Empty);
        Assert.That(Members("SUNION", "set:x", "set:y", "set:missing"), Is.EqualTo(new[] { "1", "2", "3", "4", "5" }));
        Assert.That(Members("SDIFF", "set:x", "set:y"), Is.EqualTo(new[] { "1", "2" }));
        Assert.That(Members("SDIFF", "set:missing", "set:y"), Is.Empty);
        Assert.That(Do("SINTERSTORE", "set:out", "set:x", "set:y"), Is.EqualTo(":2\r\n"));
        Assert.That(Do("SUNIONSTORE", "set:out", "set:x", "set:y"), Is.EqualTo(":5\r\n"));
        Assert.That(Do("SDIFFSTORE", "set:out", "set:x", "set:y"), Is.EqualTo(":2\r\n"));
        Assert.That(Members("SMEMBERS", "set:out"), Is.EqualTo(new[] { "1", "2" }));
        Do("SET", "set:strdst", "x");
        Assert.That(Do("SUNIONSTORE", "set:strdst", "set:x"), Is.EqualTo(":4\r\n"), "the destination is overwritten whatever its type");
        Assert.That(Do("SINTERSTORE", "set:out", "set:x", "set:missing"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("EXISTS", "set:out"), Is.EqualTo(":0\r\n"), "an empty result deletes the destination");
    }

    [Test]
    public void SscanVisitsEveryMember()
    {
        Assert.That(Do("SSCAN", "set:none", "0"), Is.EqualTo("*2\r\n$1\r\n0\r\n*0\r\n"));
        Assert.That(Do("SSCAN", "set:none", "x"), Is.EqualTo("-ERR invalid cursor\r\n"));
        Do("SADD", "set:ints", "3", "1", "2");
        Assert.That(Do("SSCAN", "set:ints", "0", "COUNT", "0"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("SSCAN", "set:ints", "0", "COUNT", "x"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"));
        Assert.That(Do("SSCAN", "set:ints", "0", "FOO"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("SMEMBERS", "set:ints"), Is.EqualTo(Array("1", "2", "3")), "an intset's members come in numeric order");
        Assert.That(Do("SSCAN", "set:ints", "0", "COUNT", "1"), Is.EqualTo("*2\r\n$1\r\n0\r\n" + Array("1", "2", "3")));
        var small = (object?[])Client.Call("SSCAN", "set:ints", "0", "COUNT", "1")!;
        Assert.That(small[0], Is.EqualTo("0"), "an integer set is returned in one step, as redis-server's intset");
        Assert.That(((object?[])small[1]!).Cast<string>().Order(), Is.EqualTo(new[] { "1", "2", "3" }));

        for (int i = 0; i < 1000; i++)
            Do("SADD", "set:big", "member:" + i);
        var seen = new HashSet<string>();
        string cursor = "0";
        int steps = 0;
        do
        {
            var reply = (object?[])Client.Call("SSCAN", "set:big", cursor, "MATCH", "member:1*", "COUNT", "20")!;
            cursor = (string)reply[0]!;
            foreach (var m in ((object?[])reply[1]!).Cast<string>())
                seen.Add(m);
            steps++;
            // Members come and go during the scan: those present throughout must all be returned.
            Do("SADD", "set:big", "extra:" + steps);
        }
        while (cursor != "0" && steps < 10000);
        Assert.That(seen, Is.EquivalentTo(Enumerable.Range(0, 1000).Select(i => "member:" + i).Where(m => m.StartsWith("member:1"))));
    }

    [Test]
    public void StackExchangeRedisSetApi()
    {
        using var mux = StackExchangeClient.Connect(Server.Port);
        var db = mux.GetDatabase();
        Assert.That(db.SetAdd("se:set", new RedisValue[] { "a", "b", "c" }), Is.EqualTo(3));
        Assert.That(db.SetAdd("se:set", "a"), Is.False);
        Assert.That(db.SetContains("se:set", "b"), Is.True);
        Assert.That(db.SetLength("se:set"), Is.EqualTo(3));
        Assert.That(db.SetMembers("se:set").Select(v => (string)v!).Order(), Is.EqualTo(new[] { "a", "b", "c" }));
        Assert.That(db.SetRemove("se:set", "c"), Is.True);
        Assert.That(db.SetMove("se:set", "se:set2", "b"), Is.True);
        Assert.That(db.SetCombine(SetOperation.Union, "se:set", "se:set2").Select(v => (string)v!).Order(), Is.EqualTo(new[] { "a", "b" }));
        Assert.That(db.SetCombineAndStore(SetOperation.Intersect, "se:set3", "se:set", "se:set2"), Is.EqualTo(0));
        Assert.That(db.SetScan("se:set").Select(v => (string)v!), Is.EqualTo(new[] { "a" }));
        Assert.That((string?)db.SetRandomMember("se:set"), Is.EqualTo("a"));
        Assert.That((string?)db.SetPop("se:set"), Is.EqualTo("a"));
        Assert.That(db.KeyExists("se:set"), Is.False);
    }
}
