using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Scripting;

/// <summary>
/// Scripts replicate as their effects (Redis 5+ and 7.0): several writes wrapped in MULTI/EXEC, one write as
/// itself, a read-only script (or one with redis.set_repl(REPL_NONE)) nothing, SELECT inside a script as the
/// stream's own SELECT; SCRIPT LOAD and FLUSH are not propagated. Checked on the bytes of the stream against
/// redis-server 7.0.15's, then with a psyncd replica and a redis-server replica of a psyncd master.
/// </summary>
[Category("Interop")]
public class ScriptReplicationTests
{
    private static readonly string[][] s_scripts =
    {
        new[] { "EVAL", "redis.call('set', KEYS[1], ARGV[1]) redis.call('incr', KEYS[2]) return 1", "2", "sr:a", "sr:n", "v1" },
        new[] { "EVAL", "return redis.call('set', KEYS[1], 'one')", "1", "sr:b" },
        new[] { "EVAL", "return redis.call('get', KEYS[1])", "1", "sr:a" },
        new[] { "EVAL_RO", "return redis.call('get', KEYS[1])", "1", "sr:a" },
        new[] { "EVAL", "redis.set_repl(redis.REPL_NONE) redis.call('set', KEYS[1], 'local') return 1", "1", "sr:c" },
        new[] { "EVAL", "redis.call('select', 3) redis.call('set', KEYS[1], 'in3') redis.call('select', 0) redis.call('rpush', KEYS[2], 'x', 'y') return 1", "2", "sr:d", "sr:l" },
        new[] { "EVAL", "redis.call('expire', KEYS[1], 1000) redis.call('lpop', KEYS[2]) return redis.call('ttl', KEYS[1])", "2", "sr:a", "sr:l" },
        new[] { "SCRIPT", "LOAD", "return redis.call('incrby', KEYS[1], 10)" },
        new[] { "EVALSHA", "c586f02cc6eb841a99bad6c66a9c2d261dcffd53", "1", "sr:n" },
        new[] { "SCRIPT", "FLUSH" },
        new[] { "EVAL", "redis.call('del', KEYS[1]) redis.call('del', KEYS[1]) return 0", "1", "sr:none" },
        new[] { "EVAL", "redis.call('hset', KEYS[1], 'f', 'v') error('after a write')", "1", "sr:h" },
        new[] { "SET", "sr:end", "1" },
    };

    [Test]
    public void StreamCarriesTheEffectsAsRedisDoes()
    {
        using var redis = ServerProcess.StartRedis();
        using var psyncd = ServerProcess.StartPsyncd();
        string expected = StreamTap.Capture(redis, s_scripts);
        string actual = StreamTap.Capture(psyncd, s_scripts);
        Assert.That(expected, Does.Contain("<unix ms>"));
        Assert.That(actual, Is.EqualTo(expected));
        Assert.That(actual, Does.Contain("MULTI"), "a script with several writes is wrapped");
    }

    [Test]
    public void ReplicasOfAPsyncdMasterHoldWhatTheScriptsDid()
    {
        using var master = ServerProcess.StartPsyncd();
        using var psyncdReplica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        using var redisReplica = ServerProcess.StartRedis("--replicaof", "127.0.0.1", master.Port.ToString());
        ReplicationWatch.WaitForSync(master.Port, psyncdReplica.Port);
        ReplicationWatch.WaitForSync(master.Port, redisReplica.Port);
        using (var client = master.Connect())
        {
            foreach (var command in s_scripts)
                client.Command(command);
            // A script writing many keys in several databases, and one that reads only.
            client.Command("EVAL", "for i = 1, 200 do redis.call('select', i % 4) redis.call('sadd', 'sr:set' .. (i % 7), i) end return 1", "0");
            client.Command("EVAL", "return redis.call('scard', 'sr:set1')", "0");
            // What REPL_NONE kept on the master alone.
            client.Command("DEL", "sr:c");
        }
        ReplicationWatch.WaitForSync(master.Port, psyncdReplica.Port);
        ReplicationWatch.WaitForSync(master.Port, redisReplica.Port);
        string expected = DatasetText.Describe(master.Port);
        Assert.That(expected, Does.Contain("sr:set6"));
        Assert.Multiple(() =>
        {
            Assert.That(DatasetText.Describe(psyncdReplica.Port), Is.EqualTo(expected), "psyncd replica");
            Assert.That(DatasetText.Describe(redisReplica.Port), Is.EqualTo(expected), "redis-server replica");
        });
    }
}
