using Psyncd.Tests.Support;

namespace Psyncd.Tests.Integration.Server;

/// <summary>
/// When the event loop polls before it sleeps (docs/performance.md, "Polling only where it pays"): after a pass that read a
/// client's request, unless the pass sent the stream to replicas; never after the master's stream on a replica, never
/// with <c>event-loop-poll-us 0</c>. Counted by INFO eventloop's
/// <c>event_loop_polls</c> and <c>event_loop_poll_hits</c> (psyncd's own fields).
/// </summary>
public class EventLoopPollTests
{
    private static long Polls(RawClient client) => long.Parse(Field(client, "event_loop_polls"));

    private static string Field(RawClient client, string name)
    {
        var info = (string)client.Call("INFO", "eventloop")!;
        string prefix = name + ":";
        var line = info.Split("\r\n").Single(l => l.StartsWith(prefix, StringComparison.Ordinal));
        return line[prefix.Length..];
    }

    [Test]
    public void AfterAClientsRequestTheLoopPolls()
    {
        using var server = ServerProcess.StartPsyncd();
        using var client = server.Connect();
        long before = Polls(client);
        for (int i = 0; i < 50; i++)
            Assert.That(client.Command("PING"), Is.EqualTo("+PONG\r\n"));
        // One poll after each pass that read a PING (the INFO's own pass polls too, after the count was taken).
        Assert.That(Polls(client) - before, Is.GreaterThanOrEqualTo(50), "a two-core machine polls after every request");
        Assert.That(long.Parse(Field(client, "event_loop_poll_hits")), Is.LessThanOrEqualTo(Polls(client)));
    }

    [Test]
    public void WithPollingOffTheLoopNeverPolls()
    {
        using var server = ServerProcess.StartPsyncd("--event-loop-poll-us", "0");
        using var client = server.Connect();
        for (int i = 0; i < 50; i++)
            Assert.That(client.Command("PING"), Is.EqualTo("+PONG\r\n"));
        Assert.That(Polls(client), Is.Zero);
        Assert.That(client.Command("CONFIG", "GET", "event-loop-poll-us"), Is.EqualTo("*2\r\n$18\r\nevent-loop-poll-us\r\n$1\r\n0\r\n"));

        // Set at runtime, it takes effect at the next pass.
        Assert.That(client.Command("CONFIG", "SET", "event-loop-poll-us", "20"), Is.EqualTo("+OK\r\n"));
        for (int i = 0; i < 10; i++)
            client.Command("PING");
        Assert.That(Polls(client), Is.GreaterThanOrEqualTo(10));
        Assert.That(client.Command("CONFIG", "SET", "event-loop-poll-us", "1001"),
            Is.EqualTo("-ERR CONFIG SET failed (possibly related to argument 'event-loop-poll-us') - argument must be between 0 and 1000 inclusive\r\n"));
    }

    [Test]
    public void AReplicaDoesNotPollAfterItsMastersStreamNorAMasterAfterFeedingItsReplicas()
    {
        using var master = ServerProcess.StartPsyncd();
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        using var m = master.Connect();
        using var r = replica.Connect();
        long replicaBefore = Polls(r);
        long masterBefore = Polls(m);
        for (int i = 0; i < 200; i++)
            Assert.That(m.Command("SET", "fed:" + i, "v"), Is.EqualTo("+OK\r\n"));
        Assert.That(Polls(m) - masterBefore, Is.LessThanOrEqualTo(1), "the master's SETs fed its replica: no poll after them");
        // Reads feed no replica: the master polls after them.
        for (int i = 0; i < 20; i++)
            m.Command("GET", "fed:" + i);
        Assert.That(Polls(m) - masterBefore, Is.GreaterThanOrEqualTo(20));
        // The replica applied the 200 SETs in passes of its own; it polled after none of them, only after our requests.
        int requests = 0;
        Eventually.True(() =>
        {
            requests++;
            return r.Command("EXISTS", "fed:199") == ":1\r\n";
        }, TimeSpan.FromSeconds(30), "the replica applies the stream");
        Assert.That(Polls(r) - replicaBefore, Is.LessThanOrEqualTo(requests + 1));
    }

    [Test]
    public void AnIdleServerTakesNoCpuInItsEventLoop()
    {
        using var server = ServerProcess.StartPsyncd();
        using var client = server.Connect();
        for (int i = 0; i < 100; i++)
            client.Command("PING");
        string loop = Directory.EnumerateDirectories("/proc/" + server.Pid + "/task")
            .Single(task => File.ReadAllText(Path.Combine(task, "comm")).Trim() == "psyncd io");
        long before = CpuTicks(loop);
        // The client is open and silent: nothing for the loop to do for a second but sleep.
        Thread.Sleep(1000); // measuring an interval, not waiting for a condition
        Assert.That(CpuTicks(loop) - before, Is.LessThanOrEqualTo(2), "clock ticks (10 ms) of the event loop's thread in an idle second");
    }

    /// <summary>utime+stime of a thread in clock ticks (/proc/.../stat fields 14 and 15, after the command name).</summary>
    private static long CpuTicks(string task)
    {
        var stat = File.ReadAllText(Path.Combine(task, "stat"));
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11]) + long.Parse(fields[12]);
    }
}
