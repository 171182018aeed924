using System.Text;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Replication;

/// <summary>
/// The replica's link to its master once the stream starts, on the event loop: the stream bytes that arrive in
/// the same reads as the payload or the +CONTINUE line, the master client as CLIENT LIST and MONITOR show it
/// (as redis-server shows its own), CLIENT KILL TYPE MASTER, and repl-timeout while streaming.
/// </summary>
[Category("Replication")]
public class MasterLinkTests
{
    private const string ReplId = "cccccccccccccccccccccccccccccccccccccccc";

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    private static byte[] Command(params string[] args) => RawClient.Encode(args.Select(a => Encoding.Latin1.GetBytes(a)).ToArray());

    [Test]
    [CancelAfter(60_000)]
    public void StreamSentInTheSameWriteAsThePayloadIsAppliedAndAcknowledged()
    {
        var stream = Concat(Command("SELECT", "0"), Command("SET", "s1", "v1"), Command("SET", "s2", "v2"));
        long expected = 100 + stream.Length;
        var acked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var master = new FakeMaster(async (session, n) =>
        {
            await session.HandshakeAsync();
            var payload = FakeMaster.Rdb(Enumerable.Range(0, 10).Select(i => ("p" + i, "x")));
            // One write: the reply line, the payload and the first commands of the stream reach the replica together.
            await session.SendAsync(Concat(Encoding.ASCII.GetBytes("+FULLRESYNC " + ReplId + " 100\r\n$" + payload.Length + "\r\n"), payload, stream));
            while (true)
            {
                var command = await session.ReadCommandAsync();
                if (command is ["REPLCONF", "ACK", var offset] && long.Parse(offset) == expected)
                    acked.TrySetResult();
            }
        });
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        using var r = replica.Connect();
        Eventually.True(() => r.Command("GET", "s2") == "$2\r\nv2\r\n", TimeSpan.FromSeconds(20), "the stream after the payload is applied");
        Assert.That(r.Command("DBSIZE"), Is.EqualTo(":12\r\n"));
        Assert.That(ReplicationWatch.Offset(replica.Port), Is.EqualTo(expected));
        Assert.That(acked.Task.Wait(TimeSpan.FromSeconds(10)), Is.True, "the replica acknowledges the stream it applied");
        Assert.That(master.Connections, Is.EqualTo(1), "one connection all along");
    }

    [Test]
    [CancelAfter(60_000)]
    public void StreamSentInTheSameWriteAsContinueIsApplied()
    {
        var cut = new TaskCompletionSource();
        using var master = new FakeMaster(async (session, n) =>
        {
            var psync = await session.HandshakeAsync();
            if (n == 0)
            {
                await session.FullResyncAsync(ReplId, 500, FakeMaster.Rdb(new[] { ("before", "1") }));
                await cut.Task;
                session.Reset();
                return;
            }
            Assert.That(psync, Is.EqualTo(new[] { "PSYNC", ReplId, "501" }), "the replica continues where it was");
            await session.SendAsync(Concat("+CONTINUE\r\n"u8.ToArray(), Command("SELECT", "0"), Command("SET", "after", "2")));
            await session.WaitForCloseAsync();
        });
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        using var r = replica.Connect();
        Eventually.True(() => r.Command("GET", "before") == "$1\r\n1\r\n", TimeSpan.FromSeconds(20), "the payload is loaded");
        cut.SetResult();
        Eventually.True(() => r.Command("GET", "after") == "$1\r\n2\r\n", TimeSpan.FromSeconds(20), "the stream after +CONTINUE is applied");
        // The process's output is read on its own: the line logged before the stream was applied may still be on its way.
        Eventually.True(() => replica.Output.Contains("Master accepted a Partial Resynchronization"), TimeSpan.FromSeconds(10),
            "the replica logs the partial resynchronization");
        Assert.That(master.ScriptError, Is.Null);
    }

    /// <summary>The CLIENT LIST fields of the replica's master client that do not vary from run to run.</summary>
    private static Dictionary<string, string> MasterClientFields(int replicaPort)
    {
        using var client = new RawClient(replicaPort);
        string list = (string)client.Call("CLIENT", "LIST")!;
        var line = list.Split('\n').Single(l => l.Contains(" flags=M "));
        return line.Trim().Split(' ').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
    }

    [Test]
    public void MasterClientIsListedAndMonitoredAsRedisServerShowsIt()
    {
        using var pm = ServerProcess.StartPsyncd();
        using var pr = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", pm.Port.ToString());
        using var rm = ServerProcess.StartRedis();
        using var rr = ServerProcess.StartRedis("--replicaof", "127.0.0.1", rm.Port.ToString());
        foreach (var (master, replica) in new[] { (pm, pr), (rm, rr) })
        {
            using var m = master.Connect();
            m.Command("SET", "k", "v");
            ReplicationWatch.WaitForSync(master.Port, replica.Port);
            var f = MasterClientFields(replica.Port);
            string who = replica == pr ? "psyncd" : "redis-server";
            Assert.That(f["addr"], Is.EqualTo("127.0.0.1:" + master.Port), who);
            Assert.That(int.Parse(f["fd"]), Is.GreaterThan(2), who + ": the link's own descriptor");
            Assert.That((f["flags"], f["db"], f["user"], f["events"]), Is.EqualTo(("M", "0", "(superuser)", "r")), who);

            using var monitor = replica.Connect();
            Assert.That(monitor.Command("MONITOR"), Is.EqualTo("+OK\r\n"));
            m.Command("SET", "monitored", "1");
            string line;
            do
                line = monitor.ReadReply();
            while (!line.Contains("monitored"));
            Assert.That(line, Does.Contain("[0 127.0.0.1:" + master.Port + "] \"SET\" \"monitored\" \"1\""), who);
        }
    }

    [Test]
    public void ClientKillTypeMasterEndsTheLinkWhichResumesWithAPartialResync()
    {
        using var master = ServerProcess.StartPsyncd();
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        using var m = master.Connect();
        m.Command("SET", "a", "1");
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        long partial = ReplicationWatch.Stat(master.Port, "sync_partial_ok");
        string idBefore = MasterClientFields(replica.Port)["id"];
        using var r = replica.Connect();
        Assert.That(r.Command("CLIENT", "KILL", "TYPE", "master"), Is.EqualTo(":1\r\n"));
        Eventually.True(() => ReplicationWatch.Stat(master.Port, "sync_partial_ok") == partial + 1, TimeSpan.FromSeconds(15), "the replica continues");
        m.Command("SET", "a", "2");
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Assert.That(r.Command("GET", "a"), Is.EqualTo("$1\r\n2\r\n"));
        Assert.That(MasterClientFields(replica.Port)["id"], Is.Not.EqualTo(idBefore), "a new master client");
        Eventually.True(() => replica.Output.Contains("Connection with master lost"), TimeSpan.FromSeconds(10), "the replica logs the lost link");
    }

    /// <summary>
    /// Redis 7 reconnects at once when a streaming link is lost, logging "Reconnecting to MASTER", instead of
    /// waiting for its once-a-second cron: every second away is a second of writes the backlog must hold.
    /// A link that fails before streaming still waits for the next second.
    /// </summary>
    [Test]
    public void ALostStreamingLinkReconnectsAtOnceAsRedis7Does()
    {
        using var master = ServerProcess.StartPsyncd();
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        using (var m = master.Connect())
            Assert.That(m.Command("CLIENT", "KILL", "TYPE", "slave"), Is.EqualTo(":1\r\n"));
        Eventually.True(() => replica.Output.Contains("Master accepted a Partial Resynchronization"), TimeSpan.FromSeconds(15), "the replica continues");
        string output = replica.Output;
        int lost = output.IndexOf("Connection with master lost", StringComparison.Ordinal);
        Assert.That(lost, Is.GreaterThan(0), "the lost link is logged");
        var after = output[lost..].Split('\n');
        Assert.That(after[2], Does.EndWith("* Reconnecting to MASTER 127.0.0.1:" + master.Port), "the line after caching the master: " + output[lost..]);
        Assert.That(after[3], Does.EndWith("* MASTER <-> REPLICA sync started"));
    }

    /// <summary>
    /// client-query-buffer-limit protects a server from its clients, not from its master: redis-server 7 exempts
    /// the master client (checked here: a 5 MB SET reaches a 7.0 replica whose limit is 1 MB), and a replica
    /// that dropped the link instead would meet the same write after every PSYNC and never catch up.
    /// </summary>
    [Test]
    public void TheMasterIsNotHeldToTheQueryBufferLimit()
    {
        using var master = ServerProcess.StartPsyncd();
        using var replica = ServerProcess.StartPsyncd("--client-query-buffer-limit", "1mb", "--slaveof", "127.0.0.1", master.Port.ToString());
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        string big = new('x', 5_000_000);
        using (var m = master.Connect())
        {
            Assert.That(m.Command("SET", "big", big), Is.EqualTo("+OK\r\n"));
            Assert.That(m.Command("SET", "after", "1"), Is.EqualTo("+OK\r\n"));
        }
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        using (var r = replica.Connect())
            Assert.That(r.Command("STRLEN", "big"), Is.EqualTo(":5000000\r\n"));
        Assert.That(replica.Output, Does.Not.Contain("Closing client that reached max query buffer length"));
        Assert.That(ReplicationWatch.Stat(master.Port, "sync_partial_ok"), Is.Zero, "the link was never dropped");
    }

    [Test]
    public void MasterSilentWhileStreamingTimesOutAndTheLinkComesBack()
    {
        using var master = ServerProcess.StartPsyncd();
        using var replica = ServerProcess.StartPsyncd("--repl-timeout", "2", "--slaveof", "127.0.0.1", master.Port.ToString());
        using var m = master.Connect();
        m.Command("SET", "t", "1");
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Posix.Signal(master.Pid, Posix.SIGSTOP);
        try
        {
            Eventually.True(() => replica.Output.Contains("MASTER timeout: no data nor PING received..."), TimeSpan.FromSeconds(15),
                "the replica gives up on a silent master");
            Eventually.True(() => ReplicationWatch.Info(replica.Port)["master_link_status"] == "down", TimeSpan.FromSeconds(10), "the link is down");
        }
        finally
        {
            Posix.Signal(master.Pid, Posix.SIGCONT);
        }
        m.Command("SET", "t", "2");
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        using var r = replica.Connect();
        Assert.That(r.Command("GET", "t"), Is.EqualTo("$1\r\n2\r\n"));
    }
}
