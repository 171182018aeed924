using Psyncd.Tests.Support;

namespace Psyncd.Tests.Replication;

/// <summary>
/// A replica killed and restarted on its dump: it continues its master's history where the dump left it
/// (in the right database), and keeps what PSYNC2 failover needs (a backlog) for when it is promoted.
/// </summary>
[Category("Replication")]
public class ResumeTests
{
    [Test]
    public void RestartedReplicaContinuesInTheStreamsDatabase()
    {
        using var master = ServerProcess.StartPsyncd();
        string dir = ServerProcess.NewDir();
        int port = FreePort.Next();
        string[] args = ["--slaveof", "127.0.0.1", master.Port.ToString(), "--save", "3600 1"];
        var r = ServerProcess.StartPsyncdIn(dir, port, args);
        try
        {
            using var m = master.Connect();
            m.Command("SELECT", "2");
            m.Command("SET", "x", "1");
            ReplicationWatch.WaitForSync(master.Port, r.Port);
            Assert.That(r.Stop(), Is.EqualTo(0), "R saves its dump on the way out");
            // The stream is still in db 2: no SELECT precedes this write.
            m.Command("SET", "y", "1");
            long partial = ReplicationWatch.Stat(master.Port, "sync_partial_ok");
            r.Dispose();
            r = ServerProcess.StartPsyncdIn(dir, port, args);
            ReplicationWatch.WaitForSync(master.Port, r.Port);
            Assert.That(ReplicationWatch.Stat(master.Port, "sync_partial_ok"), Is.EqualTo(partial + 1), "R resumed with a partial resync:\n" + r.Output);
            Assert.That(Dataset.Describe(master.Port), Is.EqualTo("2 string x = 1\n2 string y = 1\n"));
            Assert.That(Dataset.Describe(r.Port), Is.EqualTo(Dataset.Describe(master.Port)));
        }
        finally
        {
            r.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }
}
