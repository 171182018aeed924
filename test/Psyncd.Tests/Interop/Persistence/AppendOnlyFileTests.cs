using System.Text;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Persistence;

/// <summary>
/// <c>appendonly yes</c>: psyncd's log in Redis 7.0's multi-part layout holds the replication stream, redis-check-aof
/// accepts every file, redis-server 7.0 loads a copy of the directory, and a psyncd killed with -9 restarts with its
/// data, its history and its exact offset; a cut tail is cut off, a corrupt middle stops the start.
/// </summary>
[Category("Interop")]
[Category("Persistence")]
public class AppendOnlyFileTests
{
    private const string Incr1 = "appendonly.aof.1.incr.aof";

    private static string AofDir(string dir) => Path.Combine(dir, "appendonlydir");

    private static void WriteMix(RawClient c, string prefix)
    {
        c.Command("SET", prefix + ":s", "v");
        c.Command("SELECT", "3");
        c.Command("INCR", prefix + ":n");
        c.Command("INCRBYFLOAT", prefix + ":f", "1.5");
        c.Command("RPUSH", prefix + ":l", "a", "b", "c");
        c.Command("SET", prefix + ":ttl", "x", "EX", "1000");
        c.Command("MULTI");
        c.Command("HSET", prefix + ":h", "f", "1");
        c.Command("SELECT", "5");
        c.Command("SADD", prefix + ":set", "m1", "m2");
        c.Command("EXEC");
        c.Command("SELECT", "0");
        c.Command("ZADD", prefix + ":z", "1", "one", "2", "two");
        c.Command("SPOP", prefix + ":nothing");
    }

    private static long Offset(int port) => ReplicationWatch.Offset(port);

    /// <summary>A psyncd with the log on in a new directory, some writes, then SIGKILL; returns the directory.</summary>
    private static string WrittenThenKilled(string prefix)
    {
        string dir = ServerProcess.NewDir();
        using var first = ServerProcess.StartPsyncdIn(dir, FreePort.Next(), "--appendonly", "yes");
        using (var c = first.Connect())
            WriteMix(c, prefix);
        first.Kill();
        return dir;
    }

    [Test]
    public void TheLogHoldsTheStreamAndRedisToolsAndRedisServerAcceptIt()
    {
        string dir = ServerProcess.NewDir();
        using var psyncd = ServerProcess.StartPsyncdIn(dir, FreePort.Next(), "--appendonly", "yes", "--appendfsync", "always");
        using (var c = psyncd.Connect())
            WriteMix(c, "k");
        string expected = DatasetText.Describe(psyncd.Port);
        long offset = Offset(psyncd.Port);
        var info = ReplicationWatch.Info(psyncd.Port, "persistence");
        Assert.That(info["aof_enabled"], Is.EqualTo("1"));

        // The incremental file is the stream, byte for byte as long as the offset says, starting with its SELECT.
        string aofDir = AofDir(dir);
        byte[] incr = File.ReadAllBytes(Path.Combine(aofDir, Incr1));
        Assert.That(incr.LongLength, Is.EqualTo(offset));
        Assert.That(Encoding.ASCII.GetString(incr), Does.StartWith("*2\r\n$6\r\nSELECT\r\n$1\r\n0\r\n").And.Contain("SELECT\r\n$1\r\n3\r\n").And.Contain("MULTI").And.Contain("PXAT"));
        string manifest = File.ReadAllText(Path.Combine(aofDir, "appendonly.aof.manifest"));
        Assert.That(manifest, Does.StartWith("file appendonly.aof.1.base.rdb seq 1 type b").And.Contain("file " + Incr1 + " seq 1 type i psyncd-offset 0"));

        // redis-check-aof on the manifest and on each file; redis-server 7.0 on a copy of the directory.
        AppendOnlyRewriteTests.AssertRedisToolsAccept(dir, expected);
    }

    [Test]
    public void AMasterKilledWithMinus9RestartsWithItsDataHistoryAndExactOffset()
    {
        string dir = ServerProcess.NewDir();
        int port = FreePort.Next();
        string[] args = ["--appendonly", "yes"];
        var first = ServerProcess.StartPsyncdIn(dir, port, args);
        using (var c = first.Connect())
            WriteMix(c, "a");
        string expected = DatasetText.Describe(first.Port);
        var before = ReplicationWatch.Info(first.Port);
        first.Kill();
        first.Dispose();

        using var second = ServerProcess.StartPsyncdIn(dir, port, args);
        Assert.That(DatasetText.Describe(second.Port), Is.EqualTo(expected));
        var after = ReplicationWatch.Info(second.Port);
        Assert.That(after["master_repl_offset"], Is.EqualTo(before["master_repl_offset"]));
        Assert.That(after["master_replid2"], Is.EqualTo(before["master_replid"]));
        Assert.That(after["second_repl_offset"], Is.EqualTo((long.Parse(before["master_repl_offset"]) + 1).ToString()));
        // The RAM backlog starts full of the log's tail, so that replicas behind the master's last offset continue.
        Assert.That(after["repl_backlog_histlen"], Is.EqualTo(before["master_repl_offset"]));

        // Writes go on in the same file, after a SELECT.
        using (var c = second.Connect())
            c.Command("SET", "after", "1");
        Assert.That(new FileInfo(Path.Combine(AofDir(dir), Incr1)).Length, Is.EqualTo(Offset(second.Port)));
        var check = ChildProcess.Run(Tools.Require("redis-check-aof"), [Path.Combine(AofDir(dir), "appendonly.aof.manifest")], TimeSpan.FromSeconds(60));
        Assert.That(check.ExitCode, Is.EqualTo(0), check.Output);
    }

    [TestCase("*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$3\r\nab", "!!! Truncating the AOF appendonly.aof.1.incr.aof at offset ")]
    [TestCase("*1\r\n$5\r\nMULTI\r\n*3\r\n$3\r\nSET\r\n$1\r\nz\r\n$1\r\n1\r\n", "Revert incomplete MULTI/EXEC transaction in AOF file appendonly.aof.1.incr.aof")]
    public void ATruncatedTailIsCutAtTheLastCompleteCommand(string tail, string logLine)
    {
        string dir = ServerProcess.NewDir();
        int port = FreePort.Next();
        string[] args = ["--appendonly", "yes"];
        var first = ServerProcess.StartPsyncdIn(dir, port, args);
        using (var c = first.Connect())
            WriteMix(c, "t");
        string expected = DatasetText.Describe(first.Port);
        long offset = Offset(first.Port);
        first.Kill();
        first.Dispose();
        string incr = Path.Combine(AofDir(dir), Incr1);
        File.AppendAllText(incr, tail, Encoding.ASCII);

        using var second = ServerProcess.StartPsyncdIn(dir, port, args);
        Eventually.True(() => second.Output.Contains(logLine), TimeSpan.FromSeconds(10), "the cut is logged:\n" + second.Output);
        Assert.That(second.Output, Does.Contain("AOF appendonly.aof.1.incr.aof loaded anyway because aof-load-truncated is enabled"));
        Assert.That(DatasetText.Describe(second.Port), Is.EqualTo(expected));
        Assert.That(Offset(second.Port), Is.EqualTo(offset));
        Assert.That(new FileInfo(incr).Length, Is.EqualTo(offset), "the file is cut where the last complete command ends");
    }

    [Test]
    public void ATruncatedTailStopsTheStartWhenAofLoadTruncatedIsNo()
    {
        string dir = WrittenThenKilled("n");
        File.AppendAllText(Path.Combine(AofDir(dir), Incr1), "*2\r\n$3\r\nDEL", Encoding.ASCII);
        using var second = ServerProcess.LaunchPsyncdRaw(dir, "--port", FreePort.Next().ToString(), "--dir", dir, "--appendonly", "yes", "--aof-load-truncated", "no");
        Assert.That(second.WaitForExit(TimeSpan.FromSeconds(30)), Is.True);
        Assert.That(second.ExitCode, Is.EqualTo(1));
        Assert.That(second.Output, Does.Contain("Unexpected end of file reading the append only file appendonly.aof.1.incr.aof"));
    }

    [Test]
    public void ACorruptMiddleStopsTheStartWithTheOffset()
    {
        string dir = WrittenThenKilled("c");
        string incr = Path.Combine(AofDir(dir), Incr1);
        byte[] bytes = File.ReadAllBytes(incr);
        // The third command's '*' becomes garbage: everything after it is unreadable.
        int third = Encoding.ASCII.GetString(bytes).IndexOf("*2\r\n$6\r\nSELECT\r\n$1\r\n3", StringComparison.Ordinal);
        Assert.That(third, Is.GreaterThan(0));
        bytes[third] = (byte)'X';
        File.WriteAllBytes(incr, bytes);

        using var second = ServerProcess.LaunchPsyncdRaw(dir, "--port", FreePort.Next().ToString(), "--dir", dir, "--appendonly", "yes");
        Assert.That(second.WaitForExit(TimeSpan.FromSeconds(30)), Is.True);
        Assert.That(second.ExitCode, Is.EqualTo(1));
        Assert.That(second.Output, Does.Contain("Bad file format reading the append only file appendonly.aof.1.incr.aof"));
        Assert.That(second.Output, Does.Contain("at offset " + third));
        Assert.That(new FileInfo(incr).Length, Is.EqualTo(bytes.Length), "a corrupt file is never cut");
    }

    /// <summary>A master killed with -9 comes back with its exact offset: psyncd and redis-server replicas continue with +CONTINUE.</summary>
    [Test]
    public void ReplicasContinuePartiallyAfterTheMasterIsKilled()
    {
        string dir = ServerProcess.NewDir();
        int port = FreePort.Next();
        string[] args = ["--appendonly", "yes", "--appendfsync", "always"];
        var master = ServerProcess.StartPsyncdIn(dir, port, args);
        string[] follow = ["--slaveof", "127.0.0.1", port.ToString()];
        using var psyncdReplica = ServerProcess.StartPsyncd(follow);
        using var redisReplica = ServerProcess.StartRedis(follow);
        try
        {
            using (var c = master.Connect())
                WriteMix(c, "r");
            ReplicationWatch.WaitForSync(master.Port, psyncdReplica.Port);
            ReplicationWatch.WaitForSync(master.Port, redisReplica.Port);
            master.Kill();
            master.Dispose();
            master = ServerProcess.StartPsyncdIn(dir, port, args);
            ReplicationWatch.WaitForSync(master.Port, psyncdReplica.Port);
            ReplicationWatch.WaitForSync(master.Port, redisReplica.Port);
            Assert.That(ReplicationWatch.Stat(master.Port, "sync_full"), Is.EqualTo(0), master.Output);
            Assert.That(ReplicationWatch.Stat(master.Port, "sync_partial_ok"), Is.EqualTo(2), master.Output);
            using (var c = master.Connect())
                WriteMix(c, "r2");
            ReplicationWatch.WaitForSync(master.Port, psyncdReplica.Port);
            ReplicationWatch.WaitForSync(master.Port, redisReplica.Port);
            string expected = DatasetText.Describe(master.Port);
            Assert.That(DatasetText.Describe(psyncdReplica.Port), Is.EqualTo(expected));
            Assert.That(DatasetText.Describe(redisReplica.Port), Is.EqualTo(expected));
        }
        finally
        {
            master.Dispose();
        }
    }

    /// <summary>Bytes a replica got but the master's log lost (cut here by hand): the replica must sync fully, never continue over a gap.</summary>
    [Test]
    public void AReplicaAheadOfTheRecoveredMasterSyncsFully()
    {
        string dir = ServerProcess.NewDir();
        int port = FreePort.Next();
        string[] args = ["--appendonly", "yes"];
        var master = ServerProcess.StartPsyncdIn(dir, port, args);
        using var replica = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", port.ToString());
        try
        {
            using (var c = master.Connect())
            {
                WriteMix(c, "x");
                c.Command("SET", "lost", "1");
            }
            ReplicationWatch.WaitForSync(master.Port, replica.Port);
            master.Kill();
            master.Dispose();
            string incr = Path.Combine(AofDir(dir), Incr1);
            // The SET of "lost" is cut short (whatever came after it too, a PING maybe): the master recovers less
            // than the replica has.
            int set = Encoding.ASCII.GetString(File.ReadAllBytes(incr)).LastIndexOf("*3\r\n$3\r\nSET\r\n$4\r\nlost", StringComparison.Ordinal);
            Assert.That(set, Is.GreaterThan(0));
            using (var f = new FileStream(incr, FileMode.Open))
                f.SetLength(set + 10);
            master = ServerProcess.StartPsyncdIn(dir, port, args);
            ReplicationWatch.WaitForSync(master.Port, replica.Port);
            Assert.That(ReplicationWatch.Stat(master.Port, "sync_full"), Is.EqualTo(1), master.Output);
            Assert.That(ReplicationWatch.Stat(master.Port, "sync_partial_ok"), Is.EqualTo(0));
            Assert.That(DatasetText.Describe(replica.Port), Is.EqualTo(DatasetText.Describe(master.Port)).And.Not.Contain("lost"));
        }
        finally
        {
            master.Dispose();
        }
    }

    /// <summary>The relay log: a replica with appendonly yes killed with -9 restarts with its data and offset and continues partially.</summary>
    [Test]
    public void AReplicaKilledWithMinus9ContinuesFromItsLog()
    {
        using var master = ServerProcess.StartPsyncd();
        string dir = ServerProcess.NewDir();
        int port = FreePort.Next();
        string[] args = ["--appendonly", "yes", "--slaveof", "127.0.0.1", master.Port.ToString()];
        var replica = ServerProcess.StartPsyncdIn(dir, port, args);
        try
        {
            using (var c = master.Connect())
                WriteMix(c, "y");
            ReplicationWatch.WaitForSync(master.Port, replica.Port);
            replica.Kill();
            replica.Dispose();
            using (var c = master.Connect())
                WriteMix(c, "y2");
            replica = ServerProcess.StartPsyncdIn(dir, port, args);
            ReplicationWatch.WaitForSync(master.Port, replica.Port);
            Assert.That(ReplicationWatch.Stat(master.Port, "sync_full"), Is.EqualTo(1), "only the first sync was full");
            Assert.That(ReplicationWatch.Stat(master.Port, "sync_partial_ok"), Is.EqualTo(1), replica.Output);
            Assert.That(DatasetText.Describe(replica.Port), Is.EqualTo(DatasetText.Describe(master.Port)));
            var check = ChildProcess.Run(Tools.Require("redis-check-aof"), [Path.Combine(AofDir(dir), "appendonly.aof.manifest")], TimeSpan.FromSeconds(60));
            Assert.That(check.ExitCode, Is.EqualTo(0), check.Output);
        }
        finally
        {
            replica.Dispose();
        }
    }
}
