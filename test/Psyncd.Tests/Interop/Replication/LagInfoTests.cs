using System.Text.RegularExpressions;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Replication;

/// <summary>
/// psyncd's replication lag in milliseconds: <c>lag_ms</c> at the end of a master's slaveN line, and
/// <c>master_lag_ms</c> on a replica; Redis's own fields stay as redis-server writes them.
/// </summary>
[Category("Replication")]
public class LagInfoTests
{
    private static string SlaveLine(int port) => ReplicationWatch.Info(port)["slave0"];

    [Test]
    public void TheSlaveLineIsRedisServersWithLagMsAppended()
    {
        using var redisMaster = ServerProcess.StartRedis();
        using var redisReplica = ServerProcess.StartRedis("--replicaof", "127.0.0.1", redisMaster.Port.ToString());
        using var master = ServerProcess.StartPsyncd();
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        ReplicationWatch.WaitForSync(redisMaster.Port, redisReplica.Port);
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Eventually.True(() => SlaveLine(redisMaster.Port).Contains("state=online") && SlaveLine(master.Port).Contains("state=online"),
            TimeSpan.FromSeconds(10), "both replicas online");

        var theirs = Regex.Replace(SlaveLine(redisMaster.Port), "=[^,]*", "=");
        var mine = SlaveLine(master.Port);
        Assert.That(theirs, Is.EqualTo("ip=,port=,state=,offset=,lag="));
        Assert.That(mine, Does.Match(@"^ip=127\.0\.0\.1,port=" + replica.Port + @",state=online,offset=\d+,lag=\d+,lag_ms=\d+$"));

        var replicaInfo = ReplicationWatch.Info(replica.Port);
        Assert.That(replicaInfo["master_lag_ms"], Does.Match(@"^\d+$"));
        Assert.That(ReplicationWatch.Info(redisReplica.Port).ContainsKey("master_lag_ms"), Is.False, "a field of psyncd's own");
    }

    /// <summary>
    /// A stopped replica sends no ACK: after two missed ACKs its lag_ms is the age of the oldest byte it has not
    /// acknowledged, growing while it stays stopped; once it runs again, its next ACKs bring it back down.
    /// </summary>
    [Test]
    public void LagMsGrowsWhileAReplicaIsStoppedAndFallsOnceItCatchesUp()
    {
        using var master = ServerProcess.StartPsyncd();
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        using var m = master.Connect();
        Eventually.True(() => LagMs(master.Port) == 0, TimeSpan.FromSeconds(10), "an idle, caught-up replica has no lag");

        Posix.StopAndWait(replica.Pid);
        try
        {
            Assert.That(m.Command("SET", "k", "v"), Is.EqualTo("+OK\r\n"));
            Eventually.True(() => LagMs(master.Port) >= 2500, TimeSpan.FromSeconds(15), "the unacknowledged write ages");
        }
        finally
        {
            Posix.Signal(replica.Pid, Posix.SIGCONT);
        }
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Eventually.True(() => LagMs(master.Port) < 1000, TimeSpan.FromSeconds(10), "its ACKs cover the stream again");
    }

    private static long LagMs(int port) => long.Parse(Regex.Match(SlaveLine(port), "lag_ms=(-?\\d+)").Groups[1].Value);
}
