using Psyncd.Tests.Support;

namespace Psyncd.Tests.Integration.Replication;

/// <summary>min-slaves-to-write / min-slaves-max-lag: writes refused without enough replicas that acknowledged lately.</summary>
[Category("Replication")]
public class MinReplicasTests
{
    private const string NoReplicas = "-NOREPLICAS Not enough good slaves to write.\r\n";

    /// <summary>
    /// Redis counts the good replicas again when CONFIG SET changes either rule, so the very next write
    /// is judged by the new rule (Redis 2.8's "min-slaves-to-write is ignored by slaves" relies on it).
    /// </summary>
    [Test]
    public void ConfigSetOfEitherRuleRecountsTheGoodReplicasAtOnce()
    {
        using var master = ServerProcess.StartPsyncd();
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        using var m = master.Connect();
        // A generous lag first: on a loaded machine an ACK a second can arrive more than a second apart.
        m.Command("CONFIG", "SET", "min-slaves-to-write", "1");
        m.Command("CONFIG", "SET", "min-slaves-max-lag", "60");
        Assert.That(m.Command("SET", "k", "1"), Is.EqualTo("+OK\r\n"));

        // A stopped replica sends no ACK: past a second of lag it no longer counts. The master must have seen its
        // last ACK first: one sent just before the stop but read after a recount ("not enough") made the replica
        // good again at the next recount (a loaded full run). An ACK updates the replica's lag, not the count, in
        // redis-server too. The INFO lag (whole seconds since the last ACK read) at 2 is past any ACK in flight.
        Posix.StopAndWait(replica.Pid);
        try
        {
            Eventually.True(() => ReplicaLagSeconds(master.Port) >= 2, TimeSpan.FromSeconds(10), "the master has read the stopped replica's last ACK");
            Assert.That(m.Command("CONFIG", "SET", "min-slaves-max-lag", "1"), Is.EqualTo("+OK\r\n"));
            Eventually.True(() => m.Command("SET", "k", "2") == NoReplicas, TimeSpan.FromSeconds(10), "the stopped replica stops counting");
            Assert.That(m.Command("CONFIG", "SET", "min-slaves-max-lag", "1000"), Is.EqualTo("+OK\r\n"));
            Assert.That(m.Command("SET", "k", "3"), Is.EqualTo("+OK\r\n"), "a lag of a few seconds is within 1000");
            Assert.That(m.Command("CONFIG", "SET", "min-slaves-max-lag", "1"), Is.EqualTo("+OK\r\n"));
            Assert.That(m.Command("SET", "k", "4"), Is.EqualTo(NoReplicas), "and back beyond 1 s");
        }
        finally
        {
            Posix.Signal(replica.Pid, Posix.SIGCONT);
        }
    }

    /// <summary>The lag INFO replication shows for the master's only replica (slave0's lag=, whole seconds).</summary>
    private static long ReplicaLagSeconds(int masterPort)
    {
        string line = ReplicationWatch.Info(masterPort, "replication")["slave0"];
        string lag = line.Split(',').Single(field => field.StartsWith("lag=", StringComparison.Ordinal));
        return long.Parse(lag["lag=".Length..]);
    }
}
