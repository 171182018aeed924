using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Server;

/// <summary>
/// Redis 7's protections, each checked on psyncd and on redis-server 7.0 for the same bytes: protected mode,
/// enable-debug-command, enable-protected-configs. A non-local client connects from 127.0.0.2, which reaches
/// the servers over the loopback interface but is not local for Redis (only 127.0.0.1 and ::1 are).
/// </summary>
public class ProtectionTests
{
    private const string NonLocal = "127.0.0.2";

    /// <summary>Both servers with their defaults: protected mode on, DEBUG and protected configs refused.</summary>
    private (ServerProcess Psyncd, ServerProcess Redis) _default;

    /// <summary>Protected mode off, DEBUG and protected configs for local clients only.</summary>
    private (ServerProcess Psyncd, ServerProcess Redis) _local;

    /// <summary>A password, and everything else at its default.</summary>
    private (ServerProcess Psyncd, ServerProcess Redis) _password;

    [OneTimeSetUp]
    public void Start()
    {
        _default = (ServerProcess.StartPsyncd(), ServerProcess.StartRedis());
        string[] local = { "--protected-mode", "no", "--enable-debug-command", "local", "--enable-protected-configs", "local" };
        _local = (ServerProcess.StartPsyncd(local), ServerProcess.StartRedis(local));
        _password = (ServerProcess.StartPsyncd("--requirepass", "pw"), ServerProcess.StartRedis("--requirepass", "pw"));
    }

    [OneTimeTearDown]
    public void Stop()
    {
        foreach (var (p, r) in new[] { _default, _local, _password })
        {
            p?.Dispose();
            r?.Dispose();
        }
    }

    /// <summary>Sends the same commands to both servers, from <paramref name="from"/>, and returns psyncd's replies after asserting redis-server's are equal.</summary>
    private static string[] Same((ServerProcess Psyncd, ServerProcess Redis) pair, string? from, params string[][] commands)
    {
        using var p = new RawClient(pair.Psyncd.Port, from);
        using var r = new RawClient(pair.Redis.Port, from);
        var replies = new string[commands.Length];
        for (int i = 0; i < commands.Length; i++)
        {
            replies[i] = p.Command(commands[i]);
            Assert.That(replies[i], Is.EqualTo(r.Command(commands[i])), string.Join(' ', commands[i]));
        }
        return replies;
    }

    private const string DebugRefused = "-ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.\r\n";

    [Test]
    public void DebugIsRefusedByDefaultEvenBeforeAuthAndInsideMulti()
    {
        var replies = Same(_default, null,
            new[] { "DEBUG", "SLEEP", "0" },
            new[] { "DEBUG" },
            new[] { "CONFIG", "GET", "enable-debug-command" },
            new[] { "CONFIG", "SET", "enable-debug-command", "yes" },
            new[] { "MULTI" },
            new[] { "DEBUG", "DIGEST" },
            new[] { "EXEC" });
        Assert.That(replies[0], Is.EqualTo(DebugRefused));
        Assert.That(replies[6], Does.StartWith("-EXECABORT"));

        // The refusal comes before the password check: a client without AUTH learns nothing more.
        replies = Same(_password, null, new[] { "DEBUG", "SLEEP", "0" }, new[] { "GET", "k" });
        Assert.That(replies, Is.EqualTo(new[] { DebugRefused, "-NOAUTH Authentication required.\r\n" }));
    }

    [Test]
    public void DebugLocalServesOnlyLocalClients()
    {
        Assert.That(Same(_local, null, new[] { "DEBUG", "SLEEP", "0" }), Is.EqualTo(new[] { "+OK\r\n" }));
        Assert.That(Same(_local, NonLocal, new[] { "DEBUG", "SLEEP", "0" }), Is.EqualTo(new[] { DebugRefused }));
    }

    [Test]
    public void ProtectedConfigsAreRefusedByDefault()
    {
        string dir = _default.Psyncd.Dir;
        var replies = Same(_default, null,
            new[] { "CONFIG", "SET", "dir", "/tmp" },
            new[] { "CONFIG", "SET", "dbfilename", "x.rdb" },
            new[] { "CONFIG", "SET", "maxmemory", "0", "dir", "/tmp" },
            new[] { "CONFIG", "SET", "enable-protected-configs", "yes" });
        Assert.That(replies[0], Is.EqualTo("-ERR CONFIG SET failed (possibly related to argument 'dir') - can't set protected config\r\n"));
        Assert.That(replies[1], Is.EqualTo("-ERR CONFIG SET failed (possibly related to argument 'dbfilename') - can't set protected config\r\n"));
        using var c = _default.Psyncd.Connect();
        Assert.That(c.Call("CONFIG", "GET", "dir"), Is.EqualTo(new object?[] { "dir", dir }), "nothing changed");
    }

    [Test]
    public void ProtectedConfigsLocalServesOnlyLocalClients()
    {
        string dir = ServerProcess.NewDir();
        try
        {
            var p = new RawClient(_local.Psyncd.Port, NonLocal);
            using (p)
                Assert.That(p.Command("CONFIG", "SET", "dir", dir), Does.Contain("can't set protected config"));
            Same(_local, NonLocal, new[] { "CONFIG", "SET", "dbfilename", "x.rdb" });
            Assert.That(Same(_local, null, new[] { "CONFIG", "SET", "dbfilename", "local.rdb" }), Is.EqualTo(new[] { "+OK\r\n" }));
            using var c = _local.Psyncd.Connect();
            Assert.That(c.Command("CONFIG", "SET", "dir", dir), Is.EqualTo("+OK\r\n"));
            Assert.That(c.Command("SAVE"), Is.EqualTo("+OK\r\n"));
            Assert.That(File.Exists(Path.Combine(dir, "local.rdb")), Is.True);
            Assert.That(c.Command("CONFIG", "SET", "dir", _local.Psyncd.Dir), Is.EqualTo("+OK\r\n"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>What a client that sends nothing receives until the server closes the connection.</summary>
    private static string Greeting(ServerProcess server, string from)
    {
        using var c = new RawClient(server.Port, from, TimeSpan.FromSeconds(10));
        string reply = c.ReadReply();
        Assert.That(c.IsClosedByServer(TimeSpan.FromSeconds(10)), Is.True, server.Name + " closes the connection after its reply");
        return reply;
    }

    [Test]
    public void ProtectedModeDeniesNonLocalClientsWithoutAPassword()
    {
        string denied = Greeting(_default.Redis, NonLocal);
        Assert.That(denied, Does.StartWith("-DENIED Redis is running in protected mode"));
        Assert.That(Greeting(_default.Psyncd, NonLocal), Is.EqualTo(denied));

        // Local clients are served; a password or protected-mode no serves everyone.
        Assert.That(Same(_default, null, new[] { "PING" }), Is.EqualTo(new[] { "+PONG\r\n" }));
        Assert.That(Same(_password, NonLocal, new[] { "PING" }), Is.EqualTo(new[] { "-NOAUTH Authentication required.\r\n" }));
        Assert.That(Same(_local, NonLocal, new[] { "PING" }), Is.EqualTo(new[] { "+PONG\r\n" }));

        // CONFIG SET protected-mode applies to the next connections.
        Same(_default, null, new[] { "CONFIG", "SET", "protected-mode", "no" });
        try
        {
            Assert.That(Same(_default, NonLocal, new[] { "PING" }), Is.EqualTo(new[] { "+PONG\r\n" }));
        }
        finally
        {
            Same(_default, null, new[] { "CONFIG", "SET", "protected-mode", "yes" });
        }
        Assert.That(Greeting(_default.Psyncd, NonLocal), Is.EqualTo(denied));
    }

    [Test]
    public void UnauthenticatedClientsAreLimitedToSmallRequests()
    {
        foreach (var (request, error) in new[]
        {
            ("*11\r\n", "-ERR Protocol error: unauthenticated multibulk length\r\n"),
            ("*2\r\n$4\r\nAUTH\r\n$16385\r\n", "-ERR Protocol error: unauthenticated bulk length\r\n"),
        })
        {
            foreach (var server in new[] { _password.Psyncd, _password.Redis })
            {
                using var c = server.Connect();
                c.SendRaw(request);
                Assert.That(c.ReadReply(), Is.EqualTo(error), server.Name);
                Assert.That(c.IsClosedByServer(TimeSpan.FromSeconds(10)), Is.True, server.Name + " closes the connection");
            }
        }

        // At the limits, requests are read (and refused for want of AUTH); after AUTH there are no such limits.
        string[] ten = { "MSET", "a", "1", "b", "2", "c", "3", "d", "4", "e" };
        string[] twelve = { "MSET", "u:a", "1", "u:b", "2", "u:c", "3", "u:d", "4", "u:e", "5", "u:f" };
        var replies = Same(_password, null,
            ten,
            new[] { "AUTH", new string('p', 16384) },
            new[] { "AUTH", "pw" },
            twelve.Append("6").ToArray(),
            new[] { "SET", "u:big", new string('b', 20000) },
            new[] { "STRLEN", "u:big" });
        Assert.That(replies[0], Is.EqualTo("-NOAUTH Authentication required.\r\n"));
        Assert.That(replies[3..], Is.EqualTo(new[] { "+OK\r\n", "+OK\r\n", ":20000\r\n" }));
    }

    [Test]
    public void BadValuesAreRefusedAtStartup()
    {
        foreach (var directive in new[] { "--enable-debug-command", "--enable-protected-configs" })
        {
            string dir = ServerProcess.NewDir();
            using var server = ServerProcess.LaunchPsyncdRaw(dir, directive, "maybe");
            Assert.That(server.WaitForExit(TimeSpan.FromSeconds(30)), Is.True);
            Assert.That(server.ExitCode, Is.EqualTo(1));
            Eventually.True(() => server.Output.Contains("argument(s) must be one of the following: no, yes, local"), TimeSpan.FromSeconds(10), "the reason is printed");
        }
    }
}
