using Psyncd.Tests.Support;
using StackExchange.Redis;

namespace Psyncd.Tests.Integration.Server;

/// <summary>The server as clients see it: over TCP, with StackExchange.Redis and raw RESP.</summary>
public class BasicServerTests
{
    private ServerProcess _server = null!;

    [OneTimeSetUp]
    public void Start() => _server = ServerProcess.StartPsyncd();

    [OneTimeTearDown]
    public void Stop() => _server.Dispose();

    [Test]
    public void StackExchangeRedisSetsAndGets()
    {
        using var mux = StackExchangeClient.Connect(_server.Port);
        var db = mux.GetDatabase();
        Assert.That(db.StringSet("se:key", "value"), Is.True);
        Assert.That((string?)db.StringGet("se:key"), Is.EqualTo("value"));
        Assert.That(db.StringGet("se:missing").IsNull, Is.True);
    }

    [Test]
    public void PipelinedRequestsAreAnsweredInOrder()
    {
        using var client = _server.Connect();
        client.SendRaw("*3\r\n$3\r\nSET\r\n$2\r\np1\r\n$1\r\n1\r\nPING\r\n*2\r\n$3\r\nGET\r\n$2\r\np1\r\n");
        Assert.That(client.ReadReply(), Is.EqualTo("+OK\r\n"));
        Assert.That(client.ReadReply(), Is.EqualTo("+PONG\r\n"));
        Assert.That(client.ReadReply(), Is.EqualTo("$1\r\n1\r\n"));
    }

    [Test]
    public void RequestsSplitAcrossReadsRunWhenComplete()
    {
        // The event loop runs complete requests from its shared buffer and keeps a partial one for the next
        // read: a request cut anywhere, even inside its header, must still run once and whole.
        using var client = _server.Connect();
        var request = "*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$6\r\nvalue1\r\n*2\r\n$3\r\nGET\r\n$5\r\nsplit\r\n"u8.ToArray();
        foreach (byte b in request)
            client.SendRaw(new[] { b });
        Assert.That(client.ReadReply(), Is.EqualTo("+OK\r\n"));
        Assert.That(client.ReadReply(), Is.EqualTo("$6\r\nvalue1\r\n"));

        // A 3 MB argument arrives in many reads, followed by a request in the same last packet.
        var big = new string('b', 3 << 20);
        var bytes = RawClient.Encode(new[] { "SET"u8.ToArray(), "split:big"u8.ToArray(), System.Text.Encoding.ASCII.GetBytes(big) })
            .Concat("*2\r\n$6\r\nSTRLEN\r\n$9\r\nsplit:big\r\n"u8.ToArray()).ToArray();
        for (int offset = 0; offset < bytes.Length; offset += 100_000)
            client.SendRaw(bytes[offset..Math.Min(bytes.Length, offset + 100_000)]);
        Assert.That(client.ReadReply(), Is.EqualTo("+OK\r\n"));
        Assert.That(client.ReadReply(), Is.EqualTo(":" + (3 << 20) + "\r\n"));
    }

    [Test]
    public void LargeRepliesAreSentWhenTheClientReadsLate()
    {
        // More than the socket takes at once: the rest waits for the peer (EPOLLOUT) and goes out in order.
        using var client = _server.Connect();
        using var admin = _server.Connect();
        string id = client.Command("CLIENT", "ID").Trim(':', '\r', '\n');
        var value = new string('r', 200_000);
        Assert.That(client.Command("SET", "late:big", value), Is.EqualTo("+OK\r\n"));
        var pipeline = new System.Text.StringBuilder();
        for (int i = 0; i < 50; i++)
            pipeline.Append("*2\r\n$3\r\nGET\r\n$8\r\nlate:big\r\n");
        pipeline.Append("*1\r\n$4\r\nPING\r\n");
        client.SendRaw(pipeline.ToString());
        // The server fills the socket's buffer, then holds the rest for us (omem counts it).
        Eventually.True(() => admin.Command("CLIENT", "LIST", "ID", id).Split(' ').Any(f => f.StartsWith("omem=", StringComparison.Ordinal) && f != "omem=0"),
            TimeSpan.FromSeconds(10), "the replies wait for the client");
        for (int i = 0; i < 50; i++)
            Assert.That(client.ReadReply(), Is.EqualTo("$200000\r\n" + value + "\r\n"), "reply " + i);
        Assert.That(client.ReadReply(), Is.EqualTo("+PONG\r\n"));
    }

    [Test]
    public void ProtocolErrorIsRepliedAndTheConnectionClosed()
    {
        using var client = _server.Connect();
        client.SendRaw("*1\r\nPING\r\n");
        Assert.That(client.ReadReply(), Is.EqualTo("-ERR Protocol error: expected '$', got 'P'\r\n"));
        Assert.That(client.IsClosedByServer(TimeSpan.FromSeconds(5)), Is.True);
        using var other = _server.Connect();
        Assert.That(other.Command("PING"), Is.EqualTo("+PONG\r\n"), "the server survives");
    }

    [Test]
    public void UnknownCommandAndWrongArityGetRedisErrors()
    {
        using var client = _server.Connect();
        Assert.That(client.Command("NOSUCH", "a", "b"), Is.EqualTo("-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n"));
        Assert.That(client.Command("GET"), Is.EqualTo("-ERR wrong number of arguments for 'get' command\r\n"));
    }

    [Test]
    public void AfterServingRequestsTheEventLoopSleepsInEpollWait()
    {
        // After a pass that served events the loop polls for a few microseconds before it blocks (docs/performance.md,
        // "Who is the bottleneck"): bounded, so that a server with nothing to do sleeps in epoll_wait without a timeout.
        using var client = _server.Connect();
        for (int i = 0; i < 100; i++)
            Assert.That(client.Command("PING"), Is.EqualTo("+PONG\r\n"));
        string loop = Directory.EnumerateDirectories("/proc/" + _server.Pid + "/task")
            .Single(task => File.ReadAllText(Path.Combine(task, "comm")).Trim() == "psyncd io");
        Eventually.True(() => BlockedInEpollWait(loop), TimeSpan.FromSeconds(10), "the event loop's thread blocks in epoll_wait");
    }

    /// <summary>
    /// /proc/.../syscall of a blocked thread: "number fd events maxevents timeout ..." (x86_64: epoll_wait 232, epoll_pwait
    /// 281); the timeout, an int, shows as 0xffffffff when it is -1.
    /// </summary>
    private static bool BlockedInEpollWait(string task)
    {
        var fields = File.ReadAllText(Path.Combine(task, "syscall")).Split(' ');
        return fields.Length > 4 && fields[0] is "232" or "281" && fields[4] is "0xffffffff" or "0xffffffffffffffff";
    }
}
