using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Replication;

/// <summary>
/// A mixed psyncd/redis-server deployment checked by DEBUG DIGEST, as Redis's own tests check replicas:
/// a redis-server replica of psyncd, and psyncd as a replica of redis-server, end with the master's digest,
/// over data that reached the replica both in the full sync's payload and in the stream.
/// </summary>
[Category("Replication")]
public class DigestReplicationTests
{
    private static readonly string[] s_debug = ["--enable-debug-command", "yes"];

    /// <summary>Writes every type, TTLs and several databases; <paramref name="tag"/> keeps two rounds apart.</summary>
    private static void Fill(RawClient client, string tag, int seed)
    {
        var rng = new Random(seed);
        void Run(params string[] command) => Assert.That(client.Command(command), Does.Not.StartWith("-"), string.Join(' ', command));
        for (int db = 0; db < 3; db++)
        {
            Run("SELECT", db.ToString());
            Run("SET", tag + ":s", "value-" + db);
            Run("SET", tag + ":int", (db * 1000 + 7).ToString());
            Run("SET", tag + ":ttl", "v", "EX", "100000");
            for (int i = 0; i < 200; i++)
            {
                string member = rng.Next(2) == 0 ? rng.Next(500).ToString() : "m" + rng.Next(500);
                Run("RPUSH", tag + ":list", member);
                Run("SADD", tag + ":set" + (i % 2), member);
                Run("HSET", tag + ":hash", member, rng.Next(100).ToString());
                Run("ZADD", tag + ":zset", (rng.NextDouble() * 10).ToString("R", System.Globalization.CultureInfo.InvariantCulture), member);
            }
            Run("ZADD", tag + ":small-zset", "0.1", "a", "-0", "b", "inf", "c");
            Run("HSET", tag + ":small-hash", "f", "v");
            Run("PEXPIRE", tag + ":hash", "90000000");
            // HyperLogLogs sparse and dense, their cached counts written by PFCOUNT, merged and converted.
            for (int i = 0; i < 30; i++)
                Run("PFADD", tag + ":hll:small", "e" + rng.Next(1000));
            for (int i = 0; i < 20; i++)
            {
                var batch = new List<string> { "PFADD", tag + ":hll:large" };
                for (int j = 0; j < 150; j++)
                    batch.Add("e" + rng.Next());
                Run(batch.ToArray());
            }
            Run("PFCOUNT", tag + ":hll:small");
            Run("PFCOUNT", tag + ":hll:large");
            Run("PFMERGE", tag + ":hll:merged", tag + ":hll:small");
            Run("PFMERGE", tag + ":hll:both", tag + ":hll:small", tag + ":hll:large");
            Run("PFADD", tag + ":hll:todense", "a", "b");
            Run("PFDEBUG", "TODENSE", tag + ":hll:todense");
            Run("PFADD", tag + ":hll:getreg", "a", "b");
            Run("PFDEBUG", "GETREG", tag + ":hll:getreg");
        }
        Run("SELECT", "0");
    }

    private static string Digest(ServerProcess server)
    {
        using var client = server.Connect();
        return client.Command("DEBUG", "DIGEST");
    }

    [Test]
    public void RedisServerReplicaOfPsyncdHasItsDigest()
        => ReplicaEndsWithTheMastersDigest(ServerProcess.StartPsyncd(s_debug),
            port => ServerProcess.StartRedis([.. s_debug, "--replicaof", "127.0.0.1", port, "--repl-diskless-load", "disabled"]));

    [Test]
    public void PsyncdReplicaOfRedisServerHasItsDigest()
        => ReplicaEndsWithTheMastersDigest(ServerProcess.StartRedis(s_debug),
            port => ServerProcess.StartPsyncd([.. s_debug, "--replicaof", "127.0.0.1", port]));

    /// <summary>Data before the replica attaches (the payload) and after (the stream), then equal digests and HyperLogLog bytes.</summary>
    private static void ReplicaEndsWithTheMastersDigest(ServerProcess started, Func<string, ServerProcess> startReplica)
    {
        using var master = started;
        using var m = master.Connect();
        Fill(m, "before", 1);
        using var replica = startReplica(master.Port.ToString());
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Fill(m, "after", 2);
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Assert.That(Digest(master), Does.Not.StartWith("+0000000000"));
        Assert.That(Digest(replica), Is.EqualTo(Digest(master)));
        SameHyperLogLogs(master, replica);
    }

    /// <summary>Each HyperLogLog's bytes (its encoding included) on the replica are the master's.</summary>
    private static void SameHyperLogLogs(ServerProcess master, ServerProcess replica)
    {
        using var m = master.Connect();
        using var r = replica.Connect();
        foreach (var tag in new[] { "before", "after" })
        {
            foreach (var name in new[] { "small", "large", "merged", "both", "todense", "getreg" })
            {
                string key = tag + ":hll:" + name;
                string value = m.Command("GET", key);
                Assert.That(value, Does.StartWith("$"), key);
                Assert.That(r.Command("GET", key), Is.EqualTo(value), key);
            }
        }
        Assert.That(m.Command("PFDEBUG", "ENCODING", "after:hll:small"), Is.EqualTo("+sparse\r\n"));
        Assert.That(m.Command("PFDEBUG", "ENCODING", "after:hll:large"), Is.EqualTo("+dense\r\n"));
    }
}
