using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Persistence;

/// <summary>
/// What <c>appendonly yes</c> finds at startup, psyncd beside redis-server 7.0.15 on the same files: the single
/// <c>appendonly.aof</c> of Redis before 7.0 upgraded into the multi-part layout, a manifest listing a file that is
/// missing, a faulty manifest. Same layout, same data, same log lines, same exit code. And DEBUG LOADAOF, the same load
/// at runtime.
/// </summary>
[Category("Interop")]
[Category("Persistence")]
public class AofStartupTests
{
    private const string Set = "*3\r\n$3\r\nset\r\n$3\r\nfoo\r\n$5\r\nhello\r\n";

    /// <summary>Two commands, the second cut by a crash (a Redis 2.8 server's file).</summary>
    private const string OldFile = Set + "*3\r\n$3\r\nset\r\n$3\r\nbar\r\n$5\r\nwor";

    [Test]
    public void ASingleFileOfRedisBefore7IsUpgradedAsRedisServer7UpgradesIt()
    {
        var outputs = new List<string>();
        var manifests = new List<string>();
        var listings = new List<string>();
        foreach (bool psyncd in new[] { true, false })
        {
            string dir = ServerProcess.NewDir();
            File.WriteAllText(Path.Combine(dir, "appendonly.aof"), OldFile);
            int port = FreePort.Next();
            using (var server = psyncd
                ? ServerProcess.StartPsyncdIn(dir, port, "--appendonly", "yes")
                : ServerProcess.StartRedisIn(dir, port, "--appendonly", "yes"))
            {
                using (var c = server.Connect())
                {
                    Assert.That(c.Command("GET", "foo"), Is.EqualTo("$5\r\nhello\r\n"), server.Output);
                    Assert.That(c.Command("GET", "bar"), Is.EqualTo("$-1\r\n"), "the cut command is cut off");
                    c.Command("SET", "after", "upgrade");
                }
                server.Stop();
                outputs.Add(server.Output);
            }
            string aofDir = Path.Combine(dir, "appendonlydir");
            Assert.That(File.Exists(Path.Combine(dir, "appendonly.aof")), Is.False, "the old file moved into the directory");
            listings.Add(string.Join(",", Directory.GetFiles(aofDir).Select(Path.GetFileName).Order(StringComparer.Ordinal)));
            // Redis's three keys of each line (psyncd adds its own after them).
            manifests.Add(string.Join("\n", File.ReadAllLines(Path.Combine(aofDir, "appendonly.aof.manifest"))
                .Select(line => string.Join(' ', line.Split(' ').Take(6)))));
            if (psyncd)
            {
                // psyncd again on its upgraded directory: the base and what was written after the upgrade.
                using var again = ServerProcess.StartPsyncdIn(dir, FreePort.Next(), "--appendonly", "yes");
                using var c = again.Connect();
                Assert.That((c.Command("GET", "foo"), c.Command("GET", "after")), Is.EqualTo(("$5\r\nhello\r\n", "$7\r\nupgrade\r\n")), again.Output);
            }
        }
        Assert.That(listings[0], Is.EqualTo(listings[1]));
        Assert.That(listings[0], Is.EqualTo("appendonly.aof,appendonly.aof.1.incr.aof,appendonly.aof.manifest"));
        Assert.That(manifests[0], Is.EqualTo(manifests[1]));
        Assert.That(manifests[0], Is.EqualTo("file appendonly.aof seq 1 type b\nfile appendonly.aof.1.incr.aof seq 1 type i"));
        foreach (string line in new[]
        {
            "Successfully migrated an old-style AOF file (appendonly.aof) into the AOF directory (appendonlydir).",
            "!!! Warning: short read while loading the AOF file appendonly.aof!!!",
            "!!! Truncating the AOF appendonly.aof at offset " + Set.Length + " !!!",
            "AOF appendonly.aof loaded anyway because aof-load-truncated is enabled",
            "DB loaded from base file appendonly.aof: ",
            "Creating AOF incr file appendonly.aof.1.incr.aof on server start",
        })
        {
            Assert.That(outputs[1], Does.Contain(line), "redis-server logs it");
            Assert.That(outputs[0], Does.Contain(line), "psyncd logs it as redis-server does");
        }
    }

    [TestCase("file appendonly.aof.1.incr.aof seq 1 type i\n", new string[0],
        new[] { "Unable to obtain the AOF file appendonly.aof.1.incr.aof length. stat: No such file or directory" })]
    [TestCase("file a seq 1 type b\nfile b seq 2 type b\n", new[] { "a", "b" },
        new[] { "*** FATAL AOF MANIFEST FILE ERROR ***", "Reading the manifest file, at line 2", ">>> 'file b seq 2 type b'", "Found duplicate base file information" })]
    [TestCase("file appendonly.aof.1.incr.aof seq 1 type i", new[] { "appendonly.aof.1.incr.aof" },
        new[] { "*** FATAL AOF MANIFEST FILE ERROR ***", "The AOF manifest file contains too long line" })]
    public void AStartRedisRefusesIsRefusedWithItsLines(string manifest, string[] files, string[] lines)
    {
        foreach (bool psyncd in new[] { false, true })
        {
            string dir = ServerProcess.NewDir();
            string aofDir = Path.Combine(dir, "appendonlydir");
            Directory.CreateDirectory(aofDir);
            File.WriteAllText(Path.Combine(aofDir, "appendonly.aof.manifest"), manifest);
            foreach (string file in files)
                File.WriteAllText(Path.Combine(aofDir, file), Set);
            string[] args = { "--port", FreePort.Next().ToString(), "--dir", dir, "--save", "", "--appendonly", "yes" };
            using var server = psyncd ? ServerProcess.LaunchPsyncdRaw(dir, args) : ServerProcess.LaunchRedisRaw(dir, args);
            Assert.That(server.WaitForExit(TimeSpan.FromSeconds(30)), Is.True, server.Name + " stops");
            Assert.That(server.ExitCode, Is.EqualTo(1), server.Name);
            foreach (string line in lines)
                Assert.That(server.Output, Does.Contain(line), server.Name);
        }
    }

    /// <summary>As Redis 2.8's replication-3 does: the log turned off, more writes, then DEBUG LOADAOF brings back what the log holds.</summary>
    [Test]
    public void DebugLoadAofLoadsBackWhatTheLogHoldsAsRedisServerDoes()
    {
        var results = new List<(string Logged, string Reloaded, string Output)>();
        foreach (bool psyncd in new[] { true, false })
        {
            string[] args = { "--appendonly", "yes", "--enable-debug-command", "yes" };
            using var server = psyncd ? ServerProcess.StartPsyncd(args) : ServerProcess.StartRedis(args);
            using var c = server.Connect();
            c.Command("SET", "kept", "1");
            c.Command("RPUSH", "list", "a", "b");
            c.Command("SELECT", "2");
            c.Command("INCRBY", "n", "5");
            c.Command("SELECT", "0");
            Assert.That(c.Command("BGREWRITEAOF"), Does.StartWith("+Background append only file rewriting"));
            Assert.That(Eventually.Within(() => ReplicationWatch.Info(server.Port, "persistence")["aof_rewrite_in_progress"] == "0"
                && ReplicationWatch.Info(server.Port, "persistence")["aof_rewrite_scheduled"] == "0", TimeSpan.FromSeconds(30)), Is.True);
            c.Command("RPUSH", "list", "c");
            string logged = DatasetText.Describe(server.Port);
            Assert.That(c.Command("CONFIG", "SET", "appendonly", "no"), Is.EqualTo("+OK\r\n"));
            c.Command("SET", "lost", "not in the log");
            Assert.That(c.Command("DEBUG", "LOADAOF"), Is.EqualTo("+OK\r\n"));
            // The log line reaches the test through the server's output pipe some time after the reply.
            Eventually.True(() => server.Output.Contains("Append Only File loaded by DEBUG LOADAOF"), TimeSpan.FromSeconds(10), "the reload is logged");
            results.Add((logged, DatasetText.Describe(server.Port), server.Output));
        }
        foreach (var (logged, reloaded, output) in results)
        {
            Assert.That(reloaded, Is.EqualTo(logged), "what the log held, without the write made after it was off");
            Assert.That(output, Does.Contain("Append Only File loaded by DEBUG LOADAOF"));
        }
        Assert.That(results[0].Reloaded, Is.EqualTo(results[1].Reloaded));
    }
}
