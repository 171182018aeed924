using Psyncd.Tests.Interop.Commands;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Replication;

/// <summary>
/// A psyncd replica of a redis-server 7.0 master that receives every command of <see cref="Redis7Scripts"/>
/// (COPY, SWAPDB, GETEX, LMPOP, BZPOPMIN served after a wait, ZRANGESTORE, GEOADD, BITFIELD...) in the form
/// redis-server propagates it: converged, both hold the same dataset, and the replica logged no command it
/// could not apply.
/// </summary>
[Category("Interop")]
public class Redis7CommandStreamTests
{
    [Test]
    public void APsyncdReplicaAppliesEverythingARedisMasterPropagates()
    {
        using var master = ServerProcess.StartRedis();
        using var replica = ServerProcess.StartPsyncd("--replicaof", "127.0.0.1", master.Port.ToString());
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        using var m = master.Connect();
        foreach (var (name, _) in Redis7Scripts.All)
        {
            foreach (var line in Redis7Scripts.Lines(name).Prepend("FLUSHALL"))
                m.Command(Redis7Scripts.Split(line));
            m.Command("SELECT", "0");
            // A pop served to a client that waited: propagated by the master as ZPOPMIN key / LPOP key n.
            using (var waiter = master.Connect())
            {
                waiter.Send("BZPOPMIN", "waited-z", "0");
                Eventually.True(() => ReplicationWatch.Info(master.Port, "clients")["blocked_clients"] == "1", TimeSpan.FromSeconds(10), "the client blocks");
                m.Command("ZADD", "waited-z", "1", "a", "2", "b");
                Assert.That(waiter.ReadReply(), Does.StartWith("*3"));
                waiter.Send("BLMPOP", "0", "1", "waited-l", "LEFT", "COUNT", "2");
                Eventually.True(() => ReplicationWatch.Info(master.Port, "clients")["blocked_clients"] == "1", TimeSpan.FromSeconds(10), "the client blocks");
                m.Command("RPUSH", "waited-l", "x", "y", "z");
                Assert.That(waiter.ReadReply(), Does.StartWith("*2"));
            }
            ReplicationWatch.WaitForSync(master.Port, replica.Port);
            Assert.That(DatasetText.Describe(replica.Port), Is.EqualTo(DatasetText.Describe(master.Port)), name);
        }
        Assert.That(replica.Output, Does.Not.Contain("CRITICAL"));
    }

    /// <summary>
    /// psyncd has no stream type: a stream command in its master's stream cannot be applied. It is never
    /// skipped silently: a dedicated line names the command and the key that now differs, before the CRITICAL
    /// line any failed command of the master gets, and the rest of the stream is applied.
    /// </summary>
    [Test]
    public void AStreamCommandFromARedisMasterIsNamedInOneLogLine()
    {
        using var master = ServerProcess.StartRedis();
        using var replica = ServerProcess.StartPsyncd("--replicaof", "127.0.0.1", master.Port.ToString());
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        using var m = master.Connect();
        m.Command("XADD", "events", "*", "a", "1");
        m.Command("SET", "after", "1");
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        using var r = replica.Connect();
        Assert.That(r.Command("GET", "after"), Is.EqualTo("$1\r\n1\r\n"));
        // The process's output is read on its own thread: wait for the later of the two lines, the CRITICAL one.
        Eventually.True(() => replica.Output.Contains("sending an error to its master: 'ERR unknown command 'XADD'"), TimeSpan.FromSeconds(10),
            "the replica logs the stream command");
        Assert.That(replica.Output, Does.Contain("# Stream command XADD from the master not applied: psyncd has no stream type; key 'events' now differs from the master's"));
        Assert.That(replica.Output, Does.Contain("== CRITICAL == This replica is sending an error to its master: 'ERR unknown command 'XADD'"));
    }
}
