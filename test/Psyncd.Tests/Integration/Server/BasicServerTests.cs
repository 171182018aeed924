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
        using var mux = ConnectionMultiplexer.Connect("127.0.0.1:" + _server.Port + ",abortConnect=false");
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
}
