using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Admin;

/// <summary>The DEBUG subcommands Redis's own test suite drives (POPULATE, SET-ACTIVE-EXPIRE), compared with redis-server 7.0.</summary>
public class DebugCommandTests
{
    /// <summary>Keys prefix:N holding "value:N" (cut or zero-padded to size), existing keys untouched, as redis-server makes them.</summary>
    [Test]
    public void PopulateMakesTheKeysRedisMakes()
    {
        using var psyncd = ServerProcess.StartPsyncd("--enable-debug-command", "yes");
        using var redis = ServerProcess.StartRedis("--enable-debug-command", "yes");
        foreach (var server in new[] { psyncd, redis })
        {
            using var c = server.Connect();
            c.Command("SET", "key:1", "mine");
            Assert.That(c.Command("DEBUG", "POPULATE", "3"), Is.EqualTo("+OK\r\n"), server.Name);
            Assert.That(c.Command("DEBUG", "POPULATE", "2", "cut", "4"), Is.EqualTo("+OK\r\n"));
            Assert.That(c.Command("DEBUG", "POPULATE", "2", "pad", "10"), Is.EqualTo("+OK\r\n"));
            Assert.That(c.Command("DEBUG", "POPULATE", "1", ""), Is.EqualTo("+OK\r\n"));
        }
        using var p = psyncd.Connect();
        using var r = redis.Connect();
        Assert.That(p.Command("DBSIZE"), Is.EqualTo(r.Command("DBSIZE")).And.EqualTo(":8\r\n"));
        foreach (var key in new[] { "key:0", "key:1", "key:2", "cut:0", "cut:1", "pad:0", "pad:1", ":0" })
            Assert.That(p.Command("GET", key), Is.EqualTo(r.Command("GET", key)), key);
        Assert.That(p.Command("GET", "pad:1"), Is.EqualTo("$10\r\nvalue:1\0\0\0\r\n"));
        Assert.That(p.Command("GET", "key:1"), Is.EqualTo("$4\r\nmine\r\n"), "an existing key stays as it was");
    }

    /// <summary>Populated keys are neither propagated nor counted as changes since the last save, as in Redis.</summary>
    [Test]
    public void PopulateIsNotPropagatedNorCountedAsChanges()
    {
        using var master = ServerProcess.StartPsyncd("--enable-debug-command", "yes");
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", master.Port.ToString());
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        using var m = master.Connect();
        long changes = long.Parse(ReplicationWatch.Info(master.Port, "persistence")["rdb_changes_since_last_save"]);
        Assert.That(m.Command("DEBUG", "POPULATE", "100"), Is.EqualTo("+OK\r\n"));
        Assert.That(long.Parse(ReplicationWatch.Info(master.Port, "persistence")["rdb_changes_since_last_save"]), Is.EqualTo(changes));
        m.Command("SET", "marker", "1");
        ReplicationWatch.WaitForSync(master.Port, replica.Port);
        using var r = replica.Connect();
        Assert.That(r.Command("DBSIZE"), Is.EqualTo(":1\r\n"), "only the marker reached the replica");
        Assert.That(m.Command("DBSIZE"), Is.EqualTo(":101\r\n"));
    }

    /// <summary>DEBUG SET-ACTIVE-EXPIRE 0 leaves expired keys to lazy expiry (Redis 2.8's expire.tcl relies on it).</summary>
    [Test]
    public void SetActiveExpireZeroLeavesExpiredKeysUntilLookedUp()
    {
        using var server = ServerProcess.StartPsyncd("--enable-debug-command", "yes", "--hz", "100");
        using var c = server.Connect();
        Assert.That(c.Command("DEBUG", "SET-ACTIVE-EXPIRE", "0"), Is.EqualTo("+OK\r\n"));
        for (int i = 0; i < 3; i++)
            c.Command("SET", "lazy" + i, "v", "PX", "1");
        // Something must NOT happen, so there is no condition to wait on: give active expiry (at hz 100,
        // a cycle every 10 ms) thirty chances to remove the keys, which stay, unread.
        Thread.Sleep(300);
        Assert.That(c.Command("DBSIZE"), Is.EqualTo(":3\r\n"), "no active expiry while disabled");
        Assert.That(c.Command("GET", "lazy1"), Is.EqualTo("$-1\r\n"));
        Assert.That(c.Command("DBSIZE"), Is.EqualTo(":2\r\n"), "a lookup expires the key it reads");
        Assert.That(c.Command("DEBUG", "SET-ACTIVE-EXPIRE", "1"), Is.EqualTo("+OK\r\n"));
        Eventually.True(() => c.Command("DBSIZE") == ":0\r\n", TimeSpan.FromSeconds(10), "active expiry removes the rest once enabled again");
    }
}
