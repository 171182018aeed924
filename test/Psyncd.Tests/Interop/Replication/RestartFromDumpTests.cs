using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Replication;

/// <summary>
/// A replica killed and restarted on its dump: it continues its master's history where the dump left it
/// (in the right database), and keeps what PSYNC2 failover needs (a backlog) for when it is promoted.
/// </summary>
[Category("Replication")]
public class RestartFromDumpTests
{
    /// <summary>Pushes <paramref name="count"/> values onto ten lists named after <paramref name="prefix"/>.</summary>
    internal static void Fill(RawClient client, string prefix, int count)
    {
        for (int i = 0; i < count; i++)
        {
            client.Send("RPUSH", prefix + (i % 10), "v" + i);
            client.ReadReply();
        }
    }

    /// <summary>The same scenario on redis-server nodes is the reference: both replicas continue partially.</summary>
    [TestCase("psyncd")]
    [TestCase("redis-server")]
    public void ReplicaRestartedFromItsDumpKeepsPsync2Failover(string kind)
    {
        bool psyncd = kind == "psyncd";
        ServerProcess Start(params string[] a) => psyncd ? ServerProcess.StartPsyncd(a) : ServerProcess.StartRedis(a);
        ServerProcess StartIn(string d, int p, string[] a) => psyncd ? ServerProcess.StartPsyncdIn(d, p, a) : ServerProcess.StartRedisIn(d, p, a);
        using var master = Start();
        using var r2 = Start("--slaveof", "127.0.0.1", master.Port.ToString());
        string dir = ServerProcess.NewDir();
        int port = FreePort.Next();
        string[] args = ["--slaveof", "127.0.0.1", master.Port.ToString()];
        var r = StartIn(dir, port, args);
        try
        {
            using var m = master.Connect();
            m.Command("SELECT", "2");
            Fill(m, "before", 100);
            ReplicationWatch.WaitForSync(master.Port, r.Port);
            ReplicationWatch.WaitForSync(master.Port, r2.Port);

            // The dump R keeps is the payload of its full sync: it resumes from there, in db 2.
            r.Kill();
            Fill(m, "while-down", 50);
            long partial = ReplicationWatch.Stat(master.Port, "sync_partial_ok");
            r.Dispose();
            r = StartIn(dir, port, args);
            ReplicationWatch.WaitForSync(master.Port, r.Port);
            Assert.That(ReplicationWatch.Stat(master.Port, "sync_partial_ok"), Is.EqualTo(partial + 1), "R resumed with a partial resync");
            Fill(m, "after", 50);
            ReplicationWatch.WaitForSync(master.Port, r.Port);
            ReplicationWatch.WaitForSync(master.Port, r2.Port);
            Assert.That(DatasetText.Describe(r.Port), Is.EqualTo(DatasetText.Describe(master.Port)));

            // Failover: R promoted, R2 and the old master follow it and continue its history.
            using var rc = r.Connect();
            Assert.That(rc.Command("REPLICAOF", "NO", "ONE"), Is.EqualTo("+OK\r\n"));
            using (var c2 = r2.Connect())
                Assert.That(c2.Command("REPLICAOF", "127.0.0.1", r.Port.ToString()), Is.EqualTo("+OK\r\n"));
            Assert.That(m.Command("REPLICAOF", "127.0.0.1", r.Port.ToString()), Is.EqualTo("+OK\r\n"));
            rc.Command("SELECT", "2");
            Fill(rc, "promoted", 50);
            ReplicationWatch.WaitForSync(r.Port, r2.Port);
            ReplicationWatch.WaitForSync(r.Port, master.Port);
            Assert.That(ReplicationWatch.Stat(r.Port, "sync_partial_ok"), Is.EqualTo(2), "both continued partially");
            Assert.That(ReplicationWatch.Stat(r.Port, "sync_full"), Is.EqualTo(0));
            Assert.That(r.Output, Does.Not.Contain("for lack of backlog"));
            string expected = DatasetText.Describe(r.Port);
            Assert.That(DatasetText.Describe(r2.Port), Is.EqualTo(expected));
            Assert.That(DatasetText.Describe(master.Port), Is.EqualTo(expected));
        }
        finally
        {
            r.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

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
            r = RestartResumesPartially(master, r, () => ServerProcess.StartPsyncdIn(dir, port, args),
                "2 string x = 1\n2 string y = 1\n");
        }
        finally
        {
            r.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// A key that expires while the replica is down is still in its dump, and the stream the replica resumes
    /// was written while the key lived: the replica must load it (its master sends the DEL later), or the
    /// commands that read it apply to nothing. Found by scripts/torture (a ZUNIONSTORE of a zset that had
    /// just expired on a restarted middle node of a chain). redis-server is the reference.
    /// </summary>
    [TestCase("psyncd")]
    [TestCase("redis-server")]
    public void RestartedReplicaKeepsTheKeysItsDumpHoldsPastTheirExpiry(string kind)
    {
        bool psyncd = kind == "psyncd";
        using var master = psyncd ? ServerProcess.StartPsyncd() : ServerProcess.StartRedis();
        string dir = ServerProcess.NewDir();
        int port = FreePort.Next();
        string[] args = ["--slaveof", "127.0.0.1", master.Port.ToString()];
        ServerProcess StartReplica() => psyncd ? ServerProcess.StartPsyncdIn(dir, port, args) : ServerProcess.StartRedisIn(dir, port, args);
        var r = StartReplica();
        try
        {
            using var m = master.Connect();
            // src's time to live must outlast the sync, the SAVE and the kill, and pass before the restart. Three
            // seconds do, but a loaded machine once spent them before the SUNIONSTORE: the set-up then runs again
            // with four times as long (the write must find src, or the restart would test nothing).
            long ttlMs = 3000;
            for (; ; ttlMs *= 4)
            {
                ReplicationWatch.WaitForSync(master.Port, r.Port);
                m.Command("SADD", "src", "a", "b", "c");
                m.Command("PEXPIRE", "src", ttlMs.ToString());
                ReplicationWatch.WaitForSync(master.Port, r.Port);
                using (var rc = r.Connect())
                    Assert.That(rc.Command("SAVE"), Is.EqualTo("+OK\r\n"));
                r.Kill();
                // Written while src lives: the replica will read it after src's time has passed.
                string copied = m.Command("SUNIONSTORE", "copy", "src");
                if (copied == ":3\r\n" || ttlMs >= 48_000)
                {
                    Assert.That(copied, Is.EqualTo(":3\r\n"), "src still lived on the master");
                    break;
                }
                r.Dispose();
                r = StartReplica();
            }
            Eventually.True(() => m.Command("PTTL", "src") == ":-2\r\n", TimeSpan.FromMilliseconds(ttlMs + 10_000), "src expired on the master");
            r = RestartResumesPartially(master, r, StartReplica, "0 set copy = [a,b,c]\n");
        }
        finally
        {
            r.Dispose();
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// Starts the replica <paramref name="stopped"/> again with <paramref name="start"/> (on its dump), checks that
    /// it resumed with a partial resync and that it and the master both hold <paramref name="expected"/>; returns
    /// the new process, which the caller disposes (on a failure, this method does).
    /// </summary>
    private static ServerProcess RestartResumesPartially(ServerProcess master, ServerProcess stopped, Func<ServerProcess> start, string expected)
    {
        long partial = ReplicationWatch.Stat(master.Port, "sync_partial_ok");
        stopped.Dispose();
        var r = start();
        try
        {
            ReplicationWatch.WaitForSync(master.Port, r.Port);
            Assert.That(ReplicationWatch.Stat(master.Port, "sync_partial_ok"), Is.EqualTo(partial + 1), "R resumed with a partial resync:\n" + r.Output);
            Assert.That(DatasetText.Describe(master.Port), Is.EqualTo(expected));
            Assert.That(DatasetText.Describe(r.Port), Is.EqualTo(DatasetText.Describe(master.Port)));
            return r;
        }
        catch
        {
            r.Dispose(); // the caller still holds the stopped process
            throw;
        }
    }
}
