using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Replication;

/// <summary>
/// A master killed and restarted on its dump. redis-server 7.0 keeps the dump's history as its secondary id,
/// with a backlog that starts where the dump ends: a replica that holds exactly the dump's data continues with
/// a partial resync, one that is ahead of it (writes lost with the master) gets a full one. Each case runs on a
/// psyncd master and, as the reference, on a redis-server master, with a replica of each kind.
/// </summary>
[Category("Replication")]
[Category("Interop")]
public class MasterRestartTests
{
    private static void Fill(RawClient client, string prefix, int count) => RestartFromDumpTests.Fill(client, prefix, count);

    private sealed class Topology : IDisposable
    {
        private readonly bool _psyncd;
        private readonly string _dir = ServerProcess.NewDir();
        private readonly int _port = FreePort.Next();

        public Topology(string kind)
        {
            _psyncd = kind == "psyncd";
            Master = StartMaster();
            string[] follow = ["--slaveof", "127.0.0.1", _port.ToString()];
            Replicas = [ServerProcess.StartPsyncd(follow), ServerProcess.StartRedis(follow)];
        }

        public ServerProcess Master { get; private set; }

        public ServerProcess[] Replicas { get; }

        // Active expiry off: a key's TTL passes while the master is down, never before its dump is written.
        // No PING to the replicas between the SAVE and the kill: one (14 bytes of stream) left them ahead of the
        // dump, and redis-server rightly refused them a partial resync (the master pings every
        // repl-ping-replica-period seconds whatever the traffic; the window is seconds long on a loaded machine).
        private ServerProcess StartMaster()
        {
            string[] args = ["--enable-debug-command", "yes", "--repl-ping-replica-period", "3600"];
            return _psyncd ? ServerProcess.StartPsyncdIn(_dir, _port, args) : ServerProcess.StartRedisIn(_dir, _port, args);
        }

        public void KillAndRestartMaster()
        {
            Master.Kill();
            Master.Dispose();
            Master = StartMaster();
        }

        public void WaitForReplicas()
        {
            foreach (var replica in Replicas)
                ReplicationWatch.WaitForSync(Master.Port, replica.Port);
        }

        /// <summary>
        /// Waits until the master runs no BGSAVE, which SAVE would refuse to run beside: redis-server reaps a full
        /// sync's child in its cron, a moment after the replicas have loaded what it sent.
        /// </summary>
        public void WaitForNoBackgroundSave() =>
            Eventually.True(() => ReplicationWatch.Info(Master.Port, "persistence")["rdb_bgsave_in_progress"] == "0",
                TimeSpan.FromSeconds(10), "the master's full-sync BGSAVE is over");

        /// <summary>Every replica holds the master's dataset, counted keys included (DBSIZE also counts keys that expired but were not deleted).</summary>
        public void AssertReplicasEqualMaster()
        {
            string expected = DatasetText.Describe(Master.Port);
            foreach (var replica in Replicas)
            {
                Assert.That(DatasetText.Describe(replica.Port), Is.EqualTo(expected), replica.Name);
                for (int db = 0; db < 3; db++)
                    Assert.That(DbSize(replica.Port, db), Is.EqualTo(DbSize(Master.Port, db)), replica.Name + " db " + db);
            }
        }

        private static string DbSize(int port, int db)
        {
            using var client = new RawClient(port);
            client.Command("SELECT", db.ToString());
            return client.Command("DBSIZE");
        }

        public void Dispose()
        {
            foreach (var replica in Replicas)
                replica.Dispose();
            Master.Dispose();
            Directory.Delete(_dir, recursive: true);
        }
    }

    [TestCase("psyncd")]
    [TestCase("redis-server")]
    public void ReplicasContinuePartiallyWithAMasterRestartedFromItsDump(string kind)
    {
        using var t = new Topology(kind);
        long expireAt;
        using (var m = t.Master.Connect())
        {
            Assert.That(m.Command("DEBUG", "SET-ACTIVE-EXPIRE", "0"), Is.EqualTo("+OK\r\n"));
            m.Command("SELECT", "2");
            Fill(m, "before", 100);
            // A key whose TTL passes while the master is down: the restarted master drops it at load, and its
            // replicas, which never expire keys themselves, must get a DEL for it.
            expireAt = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + 1500;
            m.Command("SET", "gone", "x");
            m.Command("PEXPIREAT", "gone", expireAt.ToString());
            m.Command("SELECT", "1");
            m.Command("SET", "in-db-1", "x");
            t.WaitForReplicas();
            t.WaitForNoBackgroundSave();
            Assert.That(m.Command("SAVE"), Is.EqualTo("+OK\r\n"));
        }
        Eventually.True(() => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() > expireAt + 100, TimeSpan.FromSeconds(10), "the TTL of gone passed");
        t.KillAndRestartMaster();
        t.WaitForReplicas();
        Assert.That(ReplicationWatch.Stat(t.Master.Port, "sync_full"), Is.EqualTo(0), "no full sync:\n" + t.Master.Output);
        Assert.That(ReplicationWatch.Stat(t.Master.Port, "sync_partial_ok"), Is.EqualTo(2), "both replicas continued");
        t.AssertReplicasEqualMaster();

        // The stream goes on in the right databases (it restarts with a SELECT).
        using (var m = t.Master.Connect())
        {
            m.Command("SELECT", "2");
            Fill(m, "after", 30);
            m.Command("SET", "in-db-2", "y");
        }
        t.WaitForReplicas();
        t.AssertReplicasEqualMaster();
        Assert.That(DatasetText.Describe(t.Master.Port), Does.Contain("2 string in-db-2 = y\n").And.Not.Contain("gone"));
    }

    /// <summary>Writes after the SAVE die with the master: its replicas hold them, so they must start over.</summary>
    [TestCase("psyncd")]
    [TestCase("redis-server")]
    public void ReplicasAheadOfTheRestartedMastersDumpSyncFully(string kind)
    {
        using var t = new Topology(kind);
        using (var m = t.Master.Connect())
        {
            m.Command("SELECT", "2");
            Fill(m, "before", 100);
            // Replicas synced first, and their full sync's BGSAVE over: SAVE would be refused beside it.
            t.WaitForReplicas();
            t.WaitForNoBackgroundSave();
            Assert.That(m.Command("SAVE"), Is.EqualTo("+OK\r\n"));
            Fill(m, "lost", 20);
            t.WaitForReplicas();
        }
        t.KillAndRestartMaster();
        t.WaitForReplicas();
        Assert.That(ReplicationWatch.Stat(t.Master.Port, "sync_full"), Is.EqualTo(2), "both replicas synced fully");
        Assert.That(ReplicationWatch.Stat(t.Master.Port, "sync_partial_ok"), Is.EqualTo(0));
        t.AssertReplicasEqualMaster();
        Assert.That(DatasetText.Describe(t.Master.Port), Does.Not.Contain("lost"));
    }
}
