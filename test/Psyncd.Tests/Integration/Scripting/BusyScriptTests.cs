using Psyncd.Tests.Support;

namespace Psyncd.Tests.Integration.Scripting;

/// <summary>
/// lua-time-limit (busy-reply-threshold): past it, a running script makes the server answer -BUSY to every
/// other command but SCRIPT KILL and SHUTDOWN NOSAVE, which are served while the script runs; SCRIPT KILL
/// stops a script that has not written (its caller gets Redis 7.0's error), and refuses one that has.
/// </summary>
public class BusyScriptTests
{
    private const string Busy = "-BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.\r\n";
    private const string Forever = "local i = 0 while true do i = i + 1 end";
    private static readonly string s_foreverSha = Sha1(Forever);

    private static string Sha1(string text)
        => Convert.ToHexStringLower(System.Security.Cryptography.SHA1.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    private ServerProcess _server = null!;

    [OneTimeSetUp]
    public void Start() => _server = ServerProcess.StartPsyncd("--lua-time-limit", "100");

    [OneTimeTearDown]
    public void Stop() => _server?.Dispose();

    private static void WaitBusy(RawClient other)
        => Eventually.True(() => other.Command("PING") == Busy, TimeSpan.FromSeconds(10), "the server answers -BUSY");

    [Test]
    public void ReadOnlyScriptIsKilledAndTheConnectionsGoOn()
    {
        using var caller = _server.Connect();
        using var other = _server.Connect();
        // The EVAL and a command pipelined behind it: the second waits for the script.
        caller.SendRaw(RawClient.Encode(new[] { "EVAL"u8.ToArray(), System.Text.Encoding.UTF8.GetBytes(Forever), "0"u8.ToArray() }));
        caller.SendRaw("PING\r\n");
        WaitBusy(other);
        Assert.That(other.Command("GET", "busy:k"), Is.EqualTo(Busy));
        Assert.That(other.Command("SCRIPT", "LOAD", "return 1"), Is.EqualTo(Busy));
        Assert.That(other.Command("SHUTDOWN"), Is.EqualTo(Busy), "SHUTDOWN would save: only NOSAVE is served");
        Assert.That(other.Command("MULTI"), Is.EqualTo("+OK\r\n"), "MULTI is allowed while busy, as in Redis 7.0");
        Assert.That(other.Command("DISCARD"), Is.EqualTo("+OK\r\n"));
        Assert.That(other.Command("SCRIPT", "KILL"), Is.EqualTo("+OK\r\n"));
        Assert.That(caller.ReadReply(), Is.EqualTo("-ERR Script killed by user with SCRIPT KILL... script: " + s_foreverSha + ", on @user_script:1.\r\n"));
        Assert.That(caller.ReadReply(), Is.EqualTo("+PONG\r\n"));
        Assert.That(other.Command("PING"), Is.EqualTo("+PONG\r\n"));
        Assert.That(other.Command("SCRIPT", "KILL"), Is.EqualTo("-NOTBUSY No scripts in execution right now.\r\n"));
        // The process's output is read on its own thread: the line may still be on its way.
        Eventually.True(() => _server.Output.Contains("Slow script detected: still in execution after"), TimeSpan.FromSeconds(10), "the slow script is logged");
    }

    [Test]
    public void ScriptThatWroteCannotBeKilledAndFinishesOnItsOwn()
    {
        using var caller = _server.Connect();
        using var other = _server.Connect();
        using var watcher = _server.Connect();
        Assert.That(watcher.Command("DEL", "busy:w", "busy:n"), Does.StartWith(":"));
        // Runs about two seconds, writing first: unkillable, and every write lands once it ends. (With 600 ms a
        // loaded machine saw the script end before a PING found the server busy.)
        const string script = "redis.call('set', KEYS[1], 'start') local t = redis.call('time') local start = t[1] * 1000000 + t[2] "
            + "local n = 0 repeat n = n + 1 local now = redis.call('time') until (now[1] * 1000000 + now[2]) - start > 2000000 "
            + "redis.call('set', KEYS[2], n) return 'done'";
        caller.SendRaw(RawClient.Encode(new[] { "EVAL"u8.ToArray(), System.Text.Encoding.UTF8.GetBytes(script), "2"u8.ToArray(), "busy:w"u8.ToArray(), "busy:n"u8.ToArray() }));
        WaitBusy(other);
        Assert.That(other.Command("SCRIPT", "KILL"), Does.StartWith("-UNKILLABLE Sorry the script already executed write commands against the dataset."));
        Assert.That(caller.ReadReply(), Is.EqualTo("$4\r\ndone\r\n"));
        Assert.That(other.Command("GET", "busy:w"), Is.EqualTo("$5\r\nstart\r\n"));
        Assert.That(other.Command("EXISTS", "busy:n"), Is.EqualTo(":1\r\n"));
    }

    [Test]
    public void ShutdownNosaveStopsTheServerUnderABusyScript()
    {
        using var server = ServerProcess.StartPsyncd("--lua-time-limit", "50");
        using var caller = server.Connect();
        using var other = server.Connect();
        caller.SendRaw(RawClient.Encode(new[] { "EVAL"u8.ToArray(), "redis.call('set', 'x', 1) while true do end"u8.ToArray(), "0"u8.ToArray() }));
        WaitBusy(other);
        Assert.That(other.Command("SCRIPT", "KILL"), Does.StartWith("-UNKILLABLE"));
        other.Send("SHUTDOWN", "NOSAVE");
        Assert.That(server.WaitForExit(TimeSpan.FromSeconds(20)), Is.True, "the server exits");
    }

    [Test]
    public void ScriptUnderTheLimitIsNeverBusy()
    {
        using var caller = _server.Connect();
        Assert.That(caller.Command("EVAL", "local n = 0 for i = 1, 100000 do n = n + i end return n", "0"), Is.EqualTo(":5000050000\r\n"));
        Assert.That(caller.Command("CONFIG", "GET", "busy-reply-threshold"), Is.EqualTo("*2\r\n$20\r\nbusy-reply-threshold\r\n$3\r\n100\r\n"));
        Assert.That(caller.Command("CONFIG", "GET", "lua-time-limit"), Is.EqualTo("*2\r\n$14\r\nlua-time-limit\r\n$3\r\n100\r\n"));
    }
}
