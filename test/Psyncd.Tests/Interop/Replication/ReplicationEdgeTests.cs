using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Replication;

/// <summary>Replication's harder cases: a real redis-server master, restarts, small backlogs, slow replicas, writes during a sync.</summary>
[Category("Replication")]
public class ReplicationEdgeTests
{
    private static void Fill(RawClient client, string prefix, int count, int valueSize = 16)
    {
        string value = new('v', valueSize);
        for (int i = 0; i < count; i++)
        {
            client.Send("SET", prefix + i, value);
            client.ReadReply();
        }
    }

    [Test]
    public void PsyncdReplicaFollowsRedisServerMaster()
    {
        using var master = ServerProcess.StartRedis("--repl-diskless-sync-delay", "0");
        using var m = master.Connect();
        Fill(m, "k", 200);
        m.Command("RPUSH", "list", "a", "b", "c");
        m.Command("HSET", "hash", "f1", "v1", "f2", "v2");
        m.Command("SADD", "set", "1", "2", "3");
        m.Command("ZADD", "zset", "1.5", "a", "2", "b");
        m.Command("SELECT", "5");
        m.Command("SET", "in-db5", "x");
        m.Command("SELECT", "0");

        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        // What 7.0 propagates: SET ... PXAT, PEXPIREAT, SET ... KEEPTTL for INCRBYFLOAT, MULTI/EXEC, PING, GETACK.
        m.Command("SET", "ex", "1", "EX", "1000");
        m.Command("EXPIRE", "k1", "1000");
        m.Command("INCRBYFLOAT", "float", "2.5");
        m.Command("MULTI");
        m.Command("SET", "t1", "1");
        m.Command("SET", "t2", "2");
        m.Command("EXEC");
        m.Command("DEL", "k2");
        m.Command("WAIT", "1", "2000");
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Assert.That(DatasetText.Describe(replica.Port), Is.EqualTo(DatasetText.Describe(master.Port)));
    }

    [Test]
    public void WritesDuringTheFullSyncReachTheReplica()
    {
        using var master = ServerProcess.StartPsyncd();
        using var m = master.Connect();
        Fill(m, "big", 20000, 100);
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        // Keep writing while the replica syncs.
        for (int i = 0; i < 2000; i++)
        {
            m.Send("SET", "during" + (i % 500), i.ToString());
            m.ReadReply();
        }
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Assert.That(DatasetText.Describe(replica.Port), Is.EqualTo(DatasetText.Describe(master.Port)));
    }

    [Test]
    public void BacklogTooSmallMeansFullResync()
    {
        using var master = ServerProcess.StartPsyncd("--repl-backlog-size", "16kb");
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        using var m = master.Connect();
        m.Command("SET", "a", "1");
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        long full = ReplicationWatch.Stat(master.Port, "sync_full");
        // Drop the link and, before the replica comes back, outgrow the backlog.
        CutAndOutgrowTheBacklog(m, replica.Pid);
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Assert.That(ReplicationWatch.Stat(master.Port, "sync_full"), Is.EqualTo(full + 1));
        Assert.That(DatasetText.Describe(replica.Port), Is.EqualTo(DatasetText.Describe(master.Port)));
    }

    [Test]
    public void RestartedReplicaResumesWithPartialResync()
    {
        using var master = ServerProcess.StartPsyncd();
        using var m = master.Connect();
        Fill(m, "r", 300);
        string dir = ServerProcess.NewDir();
        int port = FreePort.Next();
        var args = new[] { "--slaveof", "127.0.0.1", master.Port.ToString(), "--save", "3600 1" };
        using (var replica = ServerProcess.StartPsyncdIn(dir, port, args))
        {
            ReplicationWatch.WaitForSync(master.Port, replica.Port);
            Assert.That(replica.Stop(), Is.EqualTo(0));
        }
        Fill(m, "while-down", 100);
        long full = ReplicationWatch.Stat(master.Port, "sync_full");
        long partial = ReplicationWatch.Stat(master.Port, "sync_partial_ok");
        using var restarted = ServerProcess.StartPsyncdIn(dir, port, args);
        ReplicationWatch.WaitForSync(master.Port, restarted.Port);
        Assert.That(ReplicationWatch.Stat(master.Port, "sync_partial_ok"), Is.EqualTo(partial + 1));
        Assert.That(ReplicationWatch.Stat(master.Port, "sync_full"), Is.EqualTo(full));
        Assert.That(DatasetText.Describe(restarted.Port), Is.EqualTo(DatasetText.Describe(master.Port)));
        restarted.Kill();
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public void ReplicaThatDoesNotReadIsDroppedByTheOutputBufferLimit()
    {
        using var master = ServerProcess.StartPsyncd("--client-output-buffer-limit", "slave 2mb 1mb 1", "--loglevel", "verbose");
        using var fakeReplica = master.Connect();
        fakeReplica.Command("REPLCONF", "listening-port", "1");
        fakeReplica.Send("PSYNC", "?", "-1");
        // The fake replica never reads: its stream piles up on the master until the limit drops it.
        using var m = master.Connect();
        Eventually.True(() => ReplicationWatch.Info(master.Port).GetValueOrDefault("connected_slaves") == "1", TimeSpan.FromSeconds(10), "the fake replica is attached");
        string value = new('x', 10_000);
        for (int i = 0; i < 3000 && ReplicationWatch.Info(master.Port)["connected_slaves"] == "1"; i++)
        {
            m.Send("SET", "flood" + (i % 100), value);
            m.ReadReply();
        }
        Eventually.True(() => ReplicationWatch.Info(master.Port)["connected_slaves"] == "0", TimeSpan.FromSeconds(20), "the master drops the replica");
        Eventually.True(() => master.Output.Contains("overcoming of output buffer limits"), TimeSpan.FromSeconds(5), "the master logs why");
    }

    [Test]
    public void DisklessSyncStreamsTheSnapshotToBothKindsOfReplica()
    {
        using var master = ServerProcess.StartPsyncd("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "1");
        using var m = master.Connect();
        Fill(m, "d", 3000, 50);
        using var psyncdReplica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        using var redisReplica = ServerProcess.StartRedis("--replicaof", "127.0.0.1", master.Port.ToString());
        ReplicationWatch.WaitForSync(master.Port, psyncdReplica.Port);
        ReplicationWatch.WaitForSync(master.Port, redisReplica.Port);
        Fill(m, "after", 100);
        ReplicationWatch.WaitForSync(master.Port, psyncdReplica.Port);
        ReplicationWatch.WaitForSync(master.Port, redisReplica.Port);
        string expected = DatasetText.Describe(master.Port);
        Assert.That(DatasetText.Describe(psyncdReplica.Port), Is.EqualTo(expected));
        Assert.That(DatasetText.Describe(redisReplica.Port), Is.EqualTo(expected));
        // The process's output is read on its own thread: the line may still be on its way.
        Eventually.True(() => master.Output.Contains("Starting BGSAVE for SYNC with target: replicas sockets"), TimeSpan.FromSeconds(10),
            "the master logs a diskless sync");
    }

    [Test]
    public void LinkCutByTheNetworkResumesWithPartialResyncs()
    {
        using var master = ServerProcess.StartPsyncd();
        using var proxy = new TcpProxy(master.Port);
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", proxy.Port.ToString());
        using var m = master.Connect();
        Fill(m, "net", 200);
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        long full = ReplicationWatch.Stat(master.Port, "sync_full");
        long partial = ReplicationWatch.Stat(master.Port, "sync_partial_ok");
        for (int round = 0; round < 4; round++)
        {
            // Writes keep coming while the link is down; the replica asks for exactly what it lacks.
            proxy.DropAll();
            Fill(m, "cut" + round + ":", 150);
            ReplicationWatch.WaitForSync(master.Port, replica.Port);
        }
        Assert.That(ReplicationWatch.Stat(master.Port, "sync_partial_ok"), Is.EqualTo(partial + 4));
        Assert.That(ReplicationWatch.Stat(master.Port, "sync_full"), Is.EqualTo(full));
        Assert.That(DatasetText.Describe(replica.Port), Is.EqualTo(DatasetText.Describe(master.Port)));
    }

    [Test]
    public void SubReplicasResyncWhenTheirMasterFullSyncs()
    {
        using var master = ServerProcess.StartPsyncd("--repl-backlog-size", "16kb");
        using var middle = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        using var leaf = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", middle.Port.ToString());
        using var m = master.Connect();
        Fill(m, "c", 100);
        ReplicationWatch.WaitForSync(master.Port, middle.Port);
        ReplicationWatch.WaitForSync(middle.Port, leaf.Port);
        long leafFullSyncs = ReplicationWatch.Stat(middle.Port, "sync_full");
        // The middle replica loses its link for longer than the master's backlog covers: full sync.
        CutAndOutgrowTheBacklog(m, middle.Pid);
        ReplicationWatch.WaitForSync(master.Port, middle.Port);
        ReplicationWatch.WaitForSync(middle.Port, leaf.Port);
        Eventually.True(() => ReplicationWatch.Offset(leaf.Port) == ReplicationWatch.Offset(master.Port), TimeSpan.FromSeconds(20), "the leaf has the master's offset");
        Assert.That(ReplicationWatch.Stat(middle.Port, "sync_full"), Is.EqualTo(leafFullSyncs + 1), "the leaf was disconnected and synced again");
        Assert.That(DatasetText.Describe(leaf.Port), Is.EqualTo(DatasetText.Describe(master.Port)));
    }

    /// <summary>
    /// Cuts the master's one replica link and writes more than a 16 kB backlog holds while the replica is stopped,
    /// so that it cannot continue before the write: it reconnects at once after a lost link, as Redis 7 does.
    /// </summary>
    private static void CutAndOutgrowTheBacklog(RawClient m, int replicaPid)
    {
        Posix.StopAndWait(replicaPid);
        try
        {
            Assert.That(m.Command("CLIENT", "KILL", "TYPE", "slave"), Is.EqualTo(":1\r\n"));
            Assert.That(m.Command("SET", "large", new string('x', 200_000)), Is.EqualTo("+OK\r\n"));
        }
        finally
        {
            Posix.Signal(replicaPid, Posix.SIGCONT);
        }
    }

    [Test]
    public void ReplicaAuthenticatesWithMasterauth()
    {
        using var master = ServerProcess.StartPsyncd("--requirepass", "s3cret");
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString(), "--masterauth", "s3cret");
        using var m = master.Connect();
        Assert.That(m.Command("SET", "k", "v"), Is.EqualTo("-NOAUTH Authentication required.\r\n"));
        Assert.That(m.Command("AUTH", "s3cret"), Is.EqualTo("+OK\r\n"));
        Assert.That(m.Command("SET", "k", "v"), Is.EqualTo("+OK\r\n"));
        using var r = replica.Connect();
        Eventually.True(() => r.Command("GET", "k") == "$1\r\nv\r\n", TimeSpan.FromSeconds(20), "the replica got the key through an authenticated link");
        Assert.That(ReplicationWatch.Info(replica.Port)["master_link_status"], Is.EqualTo("up"));
    }
}
