using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Replication;

/// <summary>psyncd replicating to psyncd and to a real redis-server, with data compared key by key.</summary>
[Category("Replication")]
public class ReplicationTests
{
    private static void Fill(RawClient client, string prefix, int count)
    {
        for (int i = 0; i < count; i++)
        {
            client.Send("SET", prefix + i, "value-" + i);
            client.ReadReply();
        }
    }

    [Test]
    public void PsyncdReplicaFollowsPsyncdMaster()
    {
        using var master = ServerProcess.StartPsyncd();
        using var m = master.Connect();
        Fill(m, "before:", 500);
        m.Command("SELECT", "3");
        m.Command("SET", "db3key", "x");
        m.Command("SELECT", "0");

        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Fill(m, "after:", 500);
        m.Command("SET", "expiring", "v", "EX", "100");
        m.Command("DEL", "before:1");
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Assert.That(DatasetText.Describe(replica.Port), Is.EqualTo(DatasetText.Describe(master.Port)));

        using var r = replica.Connect();
        Assert.That(r.Command("SET", "x", "y"), Is.EqualTo("-READONLY You can't write against a read only slave.\r\n"));
        var role = (object?[])r.Call("ROLE")!;
        Assert.That(role[0], Is.EqualTo("slave"));
        Assert.That(role[3], Is.EqualTo("connected"));
    }

    [Test]
    public void RedisServerReplicaFollowsPsyncdMaster()
    {
        using var master = ServerProcess.StartPsyncd();
        using var m = master.Connect();
        Fill(m, "k", 300);
        using var replica = ServerProcess.StartRedis("--replicaof", "127.0.0.1", master.Port.ToString(), "--repl-diskless-load", "disabled");
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Fill(m, "later", 300);
        m.Command("SET", "ttl", "v", "PX", "100000");
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Assert.That(DatasetText.Describe(replica.Port), Is.EqualTo(DatasetText.Describe(master.Port)));
    }

    [Test]
    public void ChainKeepsEqualOffsetsAndData()
    {
        using var master = ServerProcess.StartPsyncd();
        using var middle = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        using var leaf = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", middle.Port.ToString());
        using var m = master.Connect();
        Fill(m, "chain", 400);
        ReplicationWatch.WaitForSync(master.Port, middle.Port);
        ReplicationWatch.WaitForSync(middle.Port, leaf.Port);
        // The same stream, byte for byte, down the chain (a PING may still be on its way: wait for it).
        Eventually.True(() => ReplicationWatch.Offset(leaf.Port) == ReplicationWatch.Offset(master.Port), TimeSpan.FromSeconds(10), "the leaf has the master's offset");
        Assert.That(DatasetText.Describe(leaf.Port), Is.EqualTo(DatasetText.Describe(master.Port)));
    }

    [Test]
    public void KilledLinkResumesWithPartialResync()
    {
        using var master = ServerProcess.StartPsyncd();
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        using var m = master.Connect();
        Fill(m, "a", 100);
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        long fullBefore = ReplicationWatch.Stat(master.Port, "sync_full");
        for (int round = 0; round < 3; round++)
        {
            m.Command("CLIENT", "KILL", "TYPE", "slave");
            Fill(m, "round" + round + ":", 200);
            ReplicationWatch.WaitForSync(master.Port, replica.Port);
        }
        Assert.That(ReplicationWatch.Stat(master.Port, "sync_partial_ok"), Is.GreaterThanOrEqualTo(3));
        Assert.That(ReplicationWatch.Stat(master.Port, "sync_full"), Is.EqualTo(fullBefore));
        Assert.That(DatasetText.Describe(replica.Port), Is.EqualTo(DatasetText.Describe(master.Port)));
    }

    [Test]
    public void WaitCountsAcknowledgingReplicas()
    {
        using var master = ServerProcess.StartPsyncd();
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        using var m = master.Connect();
        m.Command("SET", "w", "1");
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        m.Command("SET", "w", "2");
        Assert.That(m.Command("WAIT", "1", "5000"), Is.EqualTo(":1\r\n"));
        Assert.That(m.Command("WAIT", "2", "200"), Is.EqualTo(":1\r\n"), "times out with the count reached");
    }

    [Test]
    public void PromotionLetsTheOtherReplicaContinue()
    {
        using var master = ServerProcess.StartPsyncd();
        using var r1 = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        using var r2 = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        using var m = master.Connect();
        Fill(m, "p", 200);
        ReplicationWatch.WaitForSync(master.Port, r1.Port);
        ReplicationWatch.WaitForSync(master.Port, r2.Port);
        master.Kill();
        using var c1 = r1.Connect();
        Assert.That(c1.Command("SLAVEOF", "NO", "ONE"), Is.EqualTo("+OK\r\n"));
        using var c2 = r2.Connect();
        Assert.That(c2.Command("SLAVEOF", "127.0.0.1", r1.Port.ToString()), Is.EqualTo("+OK\r\n"));
        c1.Command("SET", "after-promotion", "1");
        ReplicationWatch.WaitForSync(r1.Port, r2.Port);
        Assert.That(ReplicationWatch.Stat(r1.Port, "sync_partial_ok"), Is.EqualTo(1));
        Assert.That(ReplicationWatch.Stat(r1.Port, "sync_full"), Is.EqualTo(0));
        Assert.That(DatasetText.Describe(r2.Port), Is.EqualTo(DatasetText.Describe(r1.Port)));
    }
}
