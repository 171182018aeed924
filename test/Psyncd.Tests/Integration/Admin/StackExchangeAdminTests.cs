using Psyncd.Tests.Support;
using StackExchange.Redis;

namespace Psyncd.Tests.Integration.Admin;

/// <summary>StackExchange.Redis 1.2.6's server API (INFO, CONFIG, CLIENT, TIME, SLOWLOG) against psyncd.</summary>
public class StackExchangeAdminTests
{
    private ServerProcess _server = null!;
    private ConnectionMultiplexer _mux = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _server = ServerProcess.StartPsyncd("--slowlog-log-slower-than", "0");
        _mux = StackExchangeClient.Connect(_server.Port, "allowAdmin=true,name=se-admin");
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _mux.Dispose();
        _server.Dispose();
    }

    private IServer Server => _mux.GetServer("127.0.0.1", _server.Port);

    [Test]
    public void ServerIsSeenAsAStandaloneRedis28Master()
    {
        Assert.That(_mux.IsConnected, Is.True);
        Assert.That(Server.Version, Is.EqualTo(new Version(2, 8, 24)));
        Assert.That(Server.ServerType, Is.EqualTo(ServerType.Standalone));
        Assert.That(Server.IsSlave, Is.False);
    }

    [Test]
    public void InfoIsParsedIntoSections()
    {
        var info = Server.Info();
        var server = info.Single(g => g.Key == "Server");
        Assert.That(server.Single(p => p.Key == "redis_version").Value, Is.EqualTo("2.8.24"));
        var memory = Server.Info("memory").Single();
        Assert.That(memory.Key, Is.EqualTo("Memory"));
        Assert.That(long.Parse(memory.Single(p => p.Key == "used_memory").Value), Is.GreaterThan(0));
    }

    [Test]
    public void ConfigGetAndSet()
    {
        var all = Server.ConfigGet();
        Assert.That(all.Single(p => p.Key == "databases").Value, Is.EqualTo("16"));
        Server.ConfigSet("slowlog-max-len", 64);
        Assert.That(Server.ConfigGet("slowlog-max-len").Single().Value, Is.EqualTo("64"));
        Assert.Throws<RedisServerException>(() => Server.ConfigSet("no-such-directive", "1"));
    }

    [Test]
    public void ClientListTimeAndSlowlog()
    {
        var clients = Server.ClientList();
        Assert.That(clients.Any(c => c.Name == "se-admin"), Is.True, "the multiplexer named its connections");
        Assert.That(Server.Time(), Is.EqualTo(DateTime.UtcNow).Within(TimeSpan.FromSeconds(5)));
        _mux.GetDatabase().StringSet("se:slow", "1");
        var slow = Server.SlowlogGet(100);
        Assert.That(slow.Any(e => e.Arguments.Length >= 2 && (string)e.Arguments[1] == "se:slow"), Is.True);
    }
}
