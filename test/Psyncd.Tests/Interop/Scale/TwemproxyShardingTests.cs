using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Scale;

/// <summary>
/// twemproxy (nutcracker) in front of two psyncd shards: the proxy hashes each key to one shard and must
/// find every psyncd reply well formed, single-key commands and the multi-key ones it splits (MGET, DEL).
/// </summary>
[Category("Scale")]
public class TwemproxyShardingTests
{
    [Test]
    public void KeysAreShardedOverTwoPsyncdNodesAndReadBackThroughTheProxy()
    {
        using var shard0 = ServerProcess.StartPsyncd();
        using var shard1 = ServerProcess.StartPsyncd();
        using var proxy = ServerProcess.StartTwemproxy(shard0.Port, shard1.Port);
        using var client = proxy.Connect();

        const int keys = 400;
        for (int i = 0; i < keys; i++)
            Assert.That(client.Command("SET", "user:" + i, "v" + i), Is.EqualTo("+OK\r\n"));
        client.Command("RPUSH", "queue", "a", "b", "c");
        client.Command("HSET", "profile", "name", "ada", "lang", "c#");
        client.Command("ZADD", "board", "1", "x", "2", "y");
        client.Command("INCRBY", "counter", "41");

        // Each key lives on exactly one shard, and both shards got a fair part of them.
        using var s0 = shard0.Connect();
        using var s1 = shard1.Connect();
        long on0 = (long)s0.Call("DBSIZE")!, on1 = (long)s1.Call("DBSIZE")!;
        Assert.That(on0 + on1, Is.EqualTo(keys + 4));
        Assert.That(Math.Min(on0, on1), Is.GreaterThan(keys / 4), "ketama spreads keys over both shards");
        for (int i = 0; i < keys; i += 37)
            Assert.That((long)s0.Call("EXISTS", "user:" + i)! + (long)s1.Call("EXISTS", "user:" + i)!, Is.EqualTo(1));

        // MGET and DEL span shards: the proxy splits them and joins the replies in the request's order.
        var mget = (object?[])client.Call("MGET", "user:1", "user:2", "user:3", "missing", "user:399")!;
        Assert.That(mget, Is.EqualTo(new object?[] { "v1", "v2", "v3", null, "v399" }));
        Assert.That(client.Command("LRANGE", "queue", "0", "-1"), Is.EqualTo("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"));
        Assert.That(client.Command("HGET", "profile", "lang"), Is.EqualTo("$2\r\nc#\r\n"));
        Assert.That(client.Command("ZSCORE", "board", "y"), Is.EqualTo("$1\r\n2\r\n"));
        Assert.That(client.Command("INCR", "counter"), Is.EqualTo(":42\r\n"));
        Assert.That(client.Command("DEL", "user:1", "user:2", "user:3", "missing"), Is.EqualTo(":3\r\n"));
        Assert.That((long)s0.Call("DBSIZE")! + (long)s1.Call("DBSIZE")!, Is.EqualTo(keys + 1));

        // An error reply of a shard reaches the client unchanged.
        Assert.That(client.Command("LPUSH", "profile", "x"), Does.StartWith("-WRONGTYPE "));
    }
}
