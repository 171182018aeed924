using System.Text;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Server;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Integration.Persistence;

/// <summary>SAVE, BGSAVE, save points, MISCONF, DEBUG RELOAD and loading at startup, on the real server over TCP.</summary>
public class PersistenceServerTests
{
    [Test]
    public void BgsaveWritesTheStateOfItsStartWhileWritesContinue()
    {
        using var server = ServerProcess.StartPsyncd();
        using var client = server.Connect();
        const int count = 100_000;
        Pipeline(client, count, i => new[] { "SET", "key:" + i, "original-" + i + new string('o', 80) });
        Assert.That(client.Command("BGSAVE"), Is.EqualTo("+Background saving started\r\n"));
        // Overwrite or delete every key while the save runs.
        Pipeline(client, count, i => i % 2 == 0 ? new[] { "SET", "key:" + i, "changed" } : new[] { "DEL", "key:" + i });
        string dump = Path.Combine(server.Dir, "dump.rdb");
        Eventually.True(() => File.Exists(dump), TimeSpan.FromSeconds(60), "the background save completes");
        // The file is renamed into place just before the line is logged, and the line reaches us through a pipe.
        Eventually.True(() => server.Output.Contains("Background saving terminated with success"), TimeSpan.FromSeconds(10), "the save's success is logged");
        Assert.That(Directory.GetFiles(server.Dir, "temp-*.rdb"), Is.Empty);

        string dir = ServerProcess.NewDir();
        File.Copy(dump, Path.Combine(dir, "dump.rdb"));
        using var second = ServerProcess.StartPsyncdIn(dir, FreePort.Next());
        using var reader = second.Connect();
        Assert.That(reader.Call("DBSIZE"), Is.EqualTo((long)count));
        var replies = Pipeline(reader, count, i => new[] { "GET", "key:" + i });
        for (int i = 0; i < count; i++)
            Assert.That(replies[i], Is.EqualTo(Bulk("original-" + i + new string('o', 80))), "key:" + i);
    }

    private static string Bulk(string value) => "$" + Encoding.ASCII.GetByteCount(value) + "\r\n" + value + "\r\n";

    [Test]
    public void BgsaveAndSaveWhileABgsaveRunsAreRefused()
    {
        string dir = ServerProcess.NewDir();
        var options = new ServerOptions { Port = 0, Dir = dir };
        using var log = new ServerLog(Path.Combine(dir, "log.txt"), LogLevel.Notice);
        var server = new PsyncdServer(options, log);
        string? first = null, second = null, save = null;
        bool running = false;
        // All in one visit to the loop: the background save cannot progress in between.
        server.Loop.Run(() =>
        {
            server.Keyspace.SetString(0, "k"u8, "v"u8);
            first = server.RdbPersistence.StartBgsave();
            running = server.RdbPersistence.BgsaveInProgress;
            second = server.RdbPersistence.StartBgsave();
            save = server.RdbPersistence.SaveForeground();
        });
        Assert.That(first, Is.Null);
        Assert.That(running, Is.True);
        Assert.That(second, Is.EqualTo("ERR Background save already in progress"));
        Assert.That(save, Is.EqualTo("ERR Background save already in progress"));
        Eventually.True(() => File.Exists(Path.Combine(dir, "dump.rdb")), TimeSpan.FromSeconds(30), "the save completes");
        Eventually.True(() =>
        {
            bool done = false;
            server.Loop.Run(() => done = !server.RdbPersistence.BgsaveInProgress && server.RdbPersistence.LastBgsaveStatusOk);
            return done;
        }, TimeSpan.FromSeconds(30), "the save is reported done");
        server.Keyspace.Dispose();
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>An in-process server in a directory of its own, holding 20,000 keys of 1 KB.</summary>
    private static PsyncdServer ServerWithData(string dir, ServerLog log)
    {
        var server = new PsyncdServer(new ServerOptions { Port = 0, Dir = dir }, log);
        var value = new byte[1000];
        server.Loop.Run(() =>
        {
            for (int i = 0; i < 20000; i++)
                server.Keyspace.SetString(0, Encoding.ASCII.GetBytes("key:" + i), value);
        });
        return server;
    }

    /// <summary>
    /// Starts BGSAVEs until one is caught between the end of its walk (inside the loop) and its end (its file
    /// written, synced and renamed outside it), and runs <paramref name="atTail"/> there, inside the loop.
    /// The moment is short; each BGSAVE offers one. Returns false when none was caught.
    /// </summary>
    private static bool AtTheTailOfABgsave(PsyncdServer server, Action atTail)
    {
        bool caught = false;
        for (int attempt = 0; attempt < 20 && !caught; attempt++)
        {
            string? started = null;
            server.Loop.Run(() => started = server.RdbPersistence.StartBgsave());
            Assert.That(started, Is.Null);
            bool ended = Eventually.Within(() =>
            {
                bool over = false;
                server.Loop.Run(() =>
                {
                    if (server.RdbPersistence.BgsaveInProgress && !server.Keyspace.IsSnapshotRunning)
                    {
                        caught = true;
                        atTail();
                    }
                    over = caught || !server.RdbPersistence.BgsaveInProgress;
                });
                return over;
            }, TimeSpan.FromSeconds(30), poll: TimeSpan.Zero);
            Assert.That(ended, Is.True, "the background save ends");
        }
        return caught;
    }

    /// <summary>
    /// Until a BGSAVE reports its end, SAVE answers as Redis does while a child saves. It used to see only the
    /// walk, then open the BGSAVE's temp file: a bare -ERR, and the BGSAVE's file deleted.
    /// </summary>
    [Test]
    public void SaveIsRefusedUntilABgsaveHasWrittenItsFile()
    {
        string dir = ServerProcess.NewDir();
        using var log = new ServerLog(Path.Combine(dir, "log.txt"), LogLevel.Notice);
        var server = ServerWithData(dir, log);
        string? save = null;
        Assert.That(AtTheTailOfABgsave(server, () => save = server.RdbPersistence.SaveForeground()), Is.True, "a SAVE arrived after the walk, before the end of the save");
        Assert.That(save, Is.EqualTo("ERR Background save already in progress"));
        Assert.That(Eventually.Within(() =>
        {
            bool ok = false;
            server.Loop.Run(() => ok = !server.RdbPersistence.BgsaveInProgress && server.RdbPersistence.LastBgsaveStatusOk);
            return ok;
        }, TimeSpan.FromSeconds(30)), Is.True, "the background save succeeded:\n" + File.ReadAllText(Path.Combine(dir, "log.txt")));
        server.Keyspace.Dispose();
        Directory.Delete(dir, recursive: true);
    }

    /// <summary>
    /// A shutdown cancels a running BGSAVE and saves in the foreground (Redis kills its child). Caught after
    /// the walk, the BGSAVE's thread still writes and renames its file: the final save must neither fail on
    /// that file (the server refused to exit) nor be replaced by the older snapshot afterwards.
    /// </summary>
    [Test]
    public void ShutdownSaveDuringTheTailOfABgsaveKeepsTheFinalDump()
    {
        string dir = ServerProcess.NewDir();
        using var log = new ServerLog(Path.Combine(dir, "log.txt"), LogLevel.Notice);
        var server = ServerWithData(dir, log);
        bool saved = false;
        Assert.That(AtTheTailOfABgsave(server, () =>
        {
            // Written after the BGSAVE's instant: only the final save has it.
            server.Keyspace.SetString(0, "final"u8, "yes"u8);
            saved = server.RdbPersistence.SaveOnShutdown(save: true);
        }), Is.True, "a shutdown arrived after the walk, before the end of the save");
        Assert.That(saved, Is.True, "the shutdown saved:\n" + File.ReadAllText(Path.Combine(dir, "log.txt")));
        // The cancelled BGSAVE's thread ends on its own; then no temp file is left and the dump is the final one.
        Assert.That(Eventually.Within(() => Directory.GetFiles(dir, "temp-*.rdb").Length == 0, TimeSpan.FromSeconds(30)), Is.True, "the BGSAVE's temp file is gone");
        bool final = false;
        server.Loop.Run(() =>
        {
            server.Keyspace.FlushAll();
            server.RdbPersistence.LoadRdbFile(Path.Combine(dir, "dump.rdb"));
            final = server.Keyspace.Exists(0, "final"u8);
        });
        Assert.That(final, Is.True, "the dump is the final save's, not the cancelled BGSAVE's");
        server.Keyspace.Dispose();
        Directory.Delete(dir, recursive: true);
    }

    [Test]
    public void BgsaveRepliesAsRedisDoes()
    {
        using var server = ServerProcess.StartPsyncd();
        using var client = server.Connect();
        client.Call("SET", "k", "v");
        Assert.That(client.Command("BGSAVE", "SCHEDULE", "x"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(client.Command("BGSAVE", "NOW"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(client.Command("BGSAVE", "SCHEDULE"), Is.EqualTo("+Background saving started\r\n"));
        Eventually.True(() => File.Exists(Path.Combine(server.Dir, "dump.rdb")), TimeSpan.FromSeconds(60), "saved");
    }

    [Test]
    public void SaveUpdatesLastsaveAndDebugReloadKeepsTheData()
    {
        using var server = ServerProcess.StartPsyncd("--enable-debug-command", "yes");
        using var client = server.Connect();
        long before = (long)client.Call("LASTSAVE")!;
        Assert.That(before, Is.EqualTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds()).Within(5));
        client.Call("SET", "a", "1");
        client.Call("SET", "b", "x", "PX", "100000");
        client.Call("SELECT", "9");
        client.Call("SET", "c", "in nine");
        Assert.That(client.Command("SAVE"), Is.EqualTo("+OK\r\n"));
        Assert.That(File.Exists(Path.Combine(server.Dir, "dump.rdb")), Is.True);
        Assert.That((long)client.Call("LASTSAVE")!, Is.GreaterThanOrEqualTo(before));
        Assert.That(client.Command("DEBUG", "RELOAD"), Is.EqualTo("+OK\r\n"));
        Assert.That(client.Call("GET", "c"), Is.EqualTo("in nine"));
        client.Call("SELECT", "0");
        Assert.That(client.Call("GET", "a"), Is.EqualTo("1"));
        Assert.That(client.Call("GET", "b"), Is.EqualTo("x"));
        Assert.That(client.Call("DBSIZE"), Is.EqualTo(2L));
    }

    [Test]
    public void SavePointTriggersABackgroundSave()
    {
        using var server = ServerProcess.StartPsyncd("--save", "1 2");
        using var client = server.Connect();
        client.Call("SET", "one", "1");
        client.Call("SET", "two", "2");
        // Generous bounds: a loaded machine delays the cron and the save, which is not what is checked here.
        Eventually.True(() => File.Exists(Path.Combine(server.Dir, "dump.rdb")), TimeSpan.FromSeconds(60), "the save point fires");
        // The log line is read from the process's output on another thread: wait for it, not just look.
        Eventually.True(() => server.Output.Contains("changes in 1 seconds. Saving..."), TimeSpan.FromSeconds(30),
            "the save point's log line:\n" + server.Output);
    }

    [Test]
    public void FailedBgsaveStopsWritesUntilASaveSucceeds()
    {
        using var server = ServerProcess.StartPsyncd("--save", "3600 1");
        using var client = server.Connect();
        // The first BGSAVE's temp file's path is taken by a directory: the save cannot create it.
        string blocker = Path.Combine(server.Dir, "temp-" + server.Pid + "-1.rdb");
        Directory.CreateDirectory(blocker);
        client.Call("SET", "k", "v");
        Assert.That(client.Command("BGSAVE"), Is.EqualTo("+Background saving started\r\n"));
        Eventually.True(() => client.Command("SET", "k", "v2").StartsWith("-MISCONF", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "writes are refused");
        Assert.That(client.Command("GET", "k"), Does.StartWith("$"), "reads still work");
        Directory.Delete(blocker);
        Assert.That(client.Command("BGSAVE"), Is.EqualTo("+Background saving started\r\n"));
        Eventually.True(() => client.Command("SET", "k", "v3") == "+OK\r\n", TimeSpan.FromSeconds(10), "writes resume after a good save");
    }

    [Test]
    public void SaveOnShutdownHookSavesWhenSavePointsAreSet()
    {
        // The hook itself, in-process: SHUTDOWN and SIGTERM call it.
        string dir = ServerProcess.NewDir();
        var options = new ServerOptions { Port = 0, Dir = dir };
        using var log = new ServerLog(Path.Combine(dir, "log.txt"), LogLevel.Notice);
        var server = new PsyncdServer(options, log);
        server.Loop.Run(() => server.Keyspace.SetString(0, "k"u8, "v"u8));
        Assert.That(server.RdbPersistence.SaveOnShutdown(), Is.True);
        Assert.That(File.Exists(Path.Combine(dir, "dump.rdb")), Is.True);
        File.Delete(Path.Combine(dir, "dump.rdb"));
        Assert.That(server.RdbPersistence.SaveOnShutdown(save: false), Is.True);
        Assert.That(File.Exists(Path.Combine(dir, "dump.rdb")), Is.False);
        options.Save.Clear();
        Assert.That(server.RdbPersistence.SaveOnShutdown(), Is.True);
        Assert.That(File.Exists(Path.Combine(dir, "dump.rdb")), Is.False);
        Assert.That(server.RdbPersistence.SaveOnShutdown(save: true), Is.True);
        Assert.That(File.Exists(Path.Combine(dir, "dump.rdb")), Is.True);
        server.Keyspace.Dispose();
        Directory.Delete(dir, recursive: true);
    }

    [TestCase("truncated")]
    [TestCase("checksum")]
    [TestCase("garbage")]
    [TestCase("stream")]
    public void BadDumpStopsStartupWithExitCodeOneAndIsNotTouched(string damage)
    {
        string dir = ServerProcess.NewDir();
        byte[] good;
        using (var writer = ServerProcess.StartPsyncdIn(dir, FreePort.Next()))
        {
            using var client = writer.Connect();
            for (int i = 0; i < 100; i++)
                client.Call("SET", "key" + i, "value" + i);
            Assert.That(client.Command("SAVE"), Is.EqualTo("+OK\r\n"));
            writer.Kill();
            good = File.ReadAllBytes(Path.Combine(dir, "dump.rdb"));
        }
        byte[] bad = damage switch
        {
            "truncated" => good[..(good.Length / 2)],
            "checksum" => Flip(good, good.Length - 3),
            "garbage" => Flip(good, 9),
            _ => "REDIS0010"u8.ToArray().Concat(new byte[] { 0xFE, 0x00, 0x0F, 0x01, (byte)'s', 0x00, 0x00 }).ToArray(),
        };
        string path = Path.Combine(dir, "dump.rdb");
        Directory.CreateDirectory(dir);
        File.WriteAllBytes(path, bad);
        using var server = ServerProcess.LaunchPsyncdRaw(dir, "--port", FreePort.Next().ToString(), "--bind", "127.0.0.1", "--dir", dir, "--save", "60 1");
        Assert.That(server.WaitForExit(TimeSpan.FromSeconds(60)), Is.True, "psyncd exits");
        Assert.That(server.ExitCode, Is.EqualTo(1), server.Output);
        Eventually.True(() => server.Output.Contains("Bad RDB file", StringComparison.Ordinal), TimeSpan.FromSeconds(10), "the reason is logged");
        Assert.That(server.Output, Does.Match("Bad RDB file .* at offset [0-9]+: "));
        Assert.That(File.ReadAllBytes(path), Is.EqualTo(bad), "the file is left as it was");
    }

    private static byte[] Flip(byte[] data, int at)
    {
        var copy = (byte[])data.Clone();
        copy[at] ^= 0x5A;
        return copy;
    }

    /// <summary>Sends <paramref name="count"/> commands in pipelined batches and returns the raw replies.</summary>
    internal static string[] Pipeline(RawClient client, int count, Func<int, string[]> command)
    {
        var replies = new string[count];
        const int batch = 5000;
        for (int start = 0; start < count; start += batch)
        {
            int end = Math.Min(count, start + batch);
            var buffer = new MemoryStream();
            for (int i = start; i < end; i++)
                buffer.Write(RawClient.Encode(command(i).Select(a => Encoding.Latin1.GetBytes(a)).ToArray()));
            client.SendRaw(buffer.ToArray());
            for (int i = start; i < end; i++)
                replies[i] = client.ReadReply();
        }
        return replies;
    }
}
