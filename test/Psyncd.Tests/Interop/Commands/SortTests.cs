using Psyncd.Tests.Support;
using StackExchange.Redis;

namespace Psyncd.Tests.Interop.Commands;

/// <summary>SORT over sets and sorted sets: exact replies, compared with redis-server where both can run the setup.</summary>
[Category("Interop")]
public class SortTests
{
    private ServerProcess _server = null!;
    private ServerProcess _redis = null!;
    private RawClient _c = null!;
    private RawClient _r = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _server = ServerProcess.StartPsyncd();
        _redis = ServerProcess.StartRedis();
        _c = _server.Connect();
        _r = _redis.Connect();
        string[][] setup =
        [
            ["SADD", "nums", "3", "10", "1", "2.5", "-4"],
            ["SADD", "words", "pear", "apple", "fig", "10", "2"],
            ["ZADD", "zs", "1", "c", "2", "b", "3", "a", "4", "d"],
            ["SET", "w_c", "30"], ["SET", "w_b", "10"], ["SET", "w_a", "20"], ["SET", "w_pear", "x"],
            ["SET", "name_c", "Cee"], ["SET", "name_a", "Ay"],
            ["SET", "str", "value"],
        ];
        foreach (var command in setup)
            Assert.That(_c.Command(command), Is.EqualTo(_r.Command(command)), string.Join(' ', command));
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _c?.Dispose();
        _r?.Dispose();
        _server?.Dispose();
        _redis?.Dispose();
    }

    private static IEnumerable<string[]> Commands()
    {
        yield return ["SORT", "nums"];
        yield return ["SORT", "nums", "DESC"];
        yield return ["SORT", "nums", "LIMIT", "1", "2"];
        yield return ["SORT", "nums", "LIMIT", "-5", "2"];
        yield return ["SORT", "nums", "LIMIT", "3", "-1"];
        yield return ["SORT", "nums", "LIMIT", "10", "2"];
        yield return ["SORT", "nums", "ALPHA"];
        yield return ["SORT", "words"];
        yield return ["SORT", "words", "ALPHA", "DESC"];
        yield return ["SORT", "words", "ALPHA", "LIMIT", "0", "2"];
        yield return ["SORT", "zs"];
        yield return ["SORT", "zs", "ALPHA"];
        yield return ["SORT", "zs", "BY", "nosort"];
        yield return ["SORT", "zs", "BY", "nosort", "DESC", "LIMIT", "1", "2"];
        yield return ["SORT", "zs", "BY", "w_*"];
        yield return ["SORT", "zs", "BY", "w_*", "DESC"];
        yield return ["SORT", "zs", "BY", "w_*", "GET", "#", "GET", "name_*", "GET", "w_*"];
        // Elements whose BY key is missing tie (their order is unspecified): only the rest is compared.
        yield return ["SORT", "zs", "BY", "name_*", "ALPHA", "LIMIT", "2", "2"];
        yield return ["SORT", "zs", "BY", "nosort", "GET", "name_*"];
        yield return ["SORT", "zs", "BY", "w_*", "STORE", "out1"];
        yield return ["TYPE", "out1"];
        yield return ["SORT", "words", "BY", "nosort", "STORE", "out2"];
        yield return ["SORT", "zs", "BY", "w_*", "GET", "missing_*", "STORE", "out3"];
        yield return ["SORT", "missing", "STORE", "out1"];
        yield return ["EXISTS", "out1"];
        yield return ["SORT", "missing"];
        yield return ["SORT", "str"];
        yield return ["SORT", "nums", "LIMIT", "a", "1"];
        yield return ["SORT", "nums", "BOGUS"];
        yield return ["SORT", "nums", "STORE"];
        yield return ["SORT", "nums", "BY"];
    }

    [Test]
    public void RepliesMatchRedis()
    {
        foreach (var command in Commands())
            Assert.That(_c.Command(command), Is.EqualTo(_r.Command(command)), string.Join(' ', command));
    }

    [Test]
    public void ExactReplies()
    {
        using var c = _server.Connect();
        Assert.That(c.Command("SORT", "zs", "BY", "w_*"), Is.EqualTo("*4\r\n$1\r\nd\r\n$1\r\nb\r\n$1\r\na\r\n$1\r\nc\r\n"));
        Assert.That(c.Command("SORT", "words"), Is.EqualTo("-ERR One or more scores can't be converted into double\r\n"));
        Assert.That(c.Command("SORT", "str"), Is.EqualTo("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"));
        Assert.That(c.Command("SORT", "zs", "BY", "nosort", "GET", "name_*"), Is.EqualTo("*4\r\n$3\r\nCee\r\n$-1\r\n$2\r\nAy\r\n$-1\r\n"));
        Assert.That(c.Command("SORT", "nums", "STORE", "sorted"), Is.EqualTo(":5\r\n"));
        Assert.That(c.Command("TYPE", "sorted"), Is.EqualTo("+list\r\n"));
    }

    [Test]
    public void StackExchangeRedisSort()
    {
        using var mux = StackExchangeClient.Connect(_server.Port);
        var db = mux.GetDatabase();
        Assert.That(db.Sort("nums").Select(v => (string)v!), Is.EqualTo(new[] { "-4", "1", "2.5", "3", "10" }));
        Assert.That(db.Sort("words", sortType: SortType.Alphabetic, order: Order.Descending, take: 2).Select(v => (string)v!), Is.EqualTo(new[] { "pear", "fig" }));
        Assert.That(db.Sort("zs", by: "w_*", get: new RedisValue[] { "#", "name_*" }).Select(v => (string?)v), Is.EqualTo(new[] { "d", null, "b", null, "a", "Ay", "c", "Cee" }));
        Assert.That(db.SortAndStore("se:sorted", "nums"), Is.EqualTo(5));
    }
}
