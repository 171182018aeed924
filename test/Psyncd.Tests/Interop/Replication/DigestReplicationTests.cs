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
    {
        using var master = ServerProcess.StartPsyncd(s_debug);
        using var m = master.Connect();
        Fill(m, "before", 1);
        using var replica = ServerProcess.StartRedis([.. s_debug, "--replicaof", "127.0.0.1", master.Port.ToString(), "--repl-diskless-load", "disabled"]);
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Fill(m, "after", 2);
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Assert.That(Digest(master), Does.Not.StartWith("+0000000000"));
        Assert.That(Digest(replica), Is.EqualTo(Digest(master)));
    }

    [Test]
    public void PsyncdReplicaOfRedisServerHasItsDigest()
    {
        using var master = ServerProcess.StartRedis(s_debug);
        using var m = master.Connect();
        Fill(m, "before", 3);
        using var replica = ServerProcess.StartPsyncd([.. s_debug, "--replicaof", "127.0.0.1", master.Port.ToString()]);
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Fill(m, "after", 4);
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        Assert.That(Digest(master), Does.Not.StartWith("+0000000000"));
        Assert.That(Digest(replica), Is.EqualTo(Digest(master)));
    }
}
