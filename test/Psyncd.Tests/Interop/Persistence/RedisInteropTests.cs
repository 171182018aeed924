using System.Diagnostics;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Persistence;

/// <summary>
/// RDB interop with a real redis-server 7.0 both ways: its dumps load into psyncd, psyncd's dumps pass
/// redis-check-rdb and load into redis-server with identical contents; DUMP payloads cross both ways.
/// </summary>
[Category("Interop")]
public class RedisInteropTests
{
    [Test]
    public void RedisDumpLoadsIntoPsyncdAndPsyncdDumpLoadsBackIntoRedis()
    {
        // 1. A real redis-server with every type and encoding, saved.
        using var original = ServerProcess.StartRedis();
        SortedDictionary<string, string> expected;
        using (var client = original.Connect())
        {
            RedisContents.Fill(client, seed: 1);
            expected = DatasetText.Read(client);
            Assert.That(client.Command("SAVE"), Is.EqualTo("+OK\r\n"));
        }
        Assert.That(expected.Count, Is.GreaterThan(60));

        // 2. psyncd starts on that file.
        string psyncdDir = ServerProcess.NewDir();
        File.Copy(Path.Combine(original.Dir, "dump.rdb"), Path.Combine(psyncdDir, "dump.rdb"));
        using var psyncd = ServerProcess.StartPsyncdIn(psyncdDir, FreePort.Next());
        // The output is read asynchronously: the line may arrive just after the server answered PING.
        Eventually.True(() => System.Text.RegularExpressions.Regex.IsMatch(psyncd.Output, @"DB loaded from disk: \d+\.\d{3} seconds"), TimeSpan.FromSeconds(10), "psyncd logged the load");
        using (var client = psyncd.Connect())
        {
            foreach (int db in new[] { 0, 1, 5, 15 })
            {
                client.Call("SELECT", db.ToString());
                Assert.That(client.Call("DBSIZE"), Is.EqualTo((long)expected.Keys.Count(k => k.StartsWith(db + " ", StringComparison.Ordinal))));
                Assert.That(client.Call("GET", "d" + db + ":binary"), Is.EqualTo(Value(expected, db + " d" + db + ":binary")));
                Assert.That(client.Call("TYPE", "d" + db + ":zset:big"), Is.EqualTo("zset"));
            }
            client.Call("SELECT", "0");
            // 3. psyncd saves it again.
            Assert.That(client.Command("SAVE"), Is.EqualTo("+OK\r\n"));
        }
        string psyncdDump = Path.Combine(psyncdDir, "dump.rdb");
        Assert.That(File.ReadAllBytes(psyncdDump)[..9], Is.EqualTo("REDIS0006"u8.ToArray()));

        // 4. redis-check-rdb accepts psyncd's file.
        var check = ChildProcess.Run(Tools.Require("redis-check-rdb"), [psyncdDump], TimeSpan.FromSeconds(60));
        Assert.That(check.ExitCode, Is.EqualTo(0), check.Output);
        Assert.That(check.Output, Does.Contain("RDB looks OK"));
        Assert.That(check.Output, Does.Contain("Checksum OK"));

        // 5. A real redis-server loads psyncd's file: same contents as the original.
        string redisDir = ServerProcess.NewDir();
        File.Copy(psyncdDump, Path.Combine(redisDir, "psyncd.rdb"));
        using var reloaded = ServerProcess.StartRedis("--dir", redisDir, "--dbfilename", "psyncd.rdb");
        using (var client = reloaded.Connect())
        {
            DatasetText.AssertSame(expected, DatasetText.Read(client));
        }
        Directory.Delete(redisDir, recursive: true);
    }

    [Test]
    public void DumpPayloadsCrossBothWays()
    {
        using var redis = ServerProcess.StartRedis();
        using var psyncd = ServerProcess.StartPsyncd();
        using var r = redis.Connect();
        using var p = psyncd.Connect();
        RedisContents.Fill(r, seed: 2);
        var expected = DatasetText.Read(r);
        var keys = ((object?[])r.Call("KEYS", "*")!).Cast<string>().ToArray();
        foreach (var key in keys)
        {
            var payload = (string)r.Call("DUMP", key)!;
            // The key's absolute expiry (ABSTTL): a relative TTL read here would move the expiry later by
            // the time each hop takes, which on a loaded machine outgrew the comparison's tolerance.
            string expireAt = Math.Max(0, (long)r.Call("PEXPIRETIME", key)!).ToString();
            Assert.That(p.Call("RESTORE", key, expireAt, payload, "ABSTTL"), Is.EqualTo("OK"), key);
            var back = (string)p.Call("DUMP", key)!;
            Assert.That(back[^10..^8], Is.EqualTo("\x06\x00"), "psyncd payloads carry RDB version 6");
            Assert.That(r.Call("RESTORE", key, expireAt, back, "REPLACE", "ABSTTL"), Is.EqualTo("OK"), key);
        }
        DatasetText.AssertSame(expected, DatasetText.Read(r));
    }

    [Test]
    public void RestoreAnswersAsRedisDoes()
    {
        using var redis = ServerProcess.StartRedis();
        using var psyncd = ServerProcess.StartPsyncd();
        using var r = redis.Connect();
        using var p = psyncd.Connect();
        r.Call("SET", "src", "value");
        var payload = (string)r.Call("DUMP", "src")!;
        var corrupted = payload[..^1] + (char)(payload[^1] ^ 1);
        var newer = payload[..^10] + "\x0b\x00" + payload[^8..];
        string[][] cases =
        {
            new[] { "RESTORE", "k1", "0", payload },
            new[] { "RESTORE", "k1", "0", payload },
            new[] { "RESTORE", "k1", "0", payload, "REPLACE" },
            new[] { "RESTORE", "k2", "-1", payload },
            new[] { "RESTORE", "k2", "abc", payload },
            new[] { "RESTORE", "k2", "0", corrupted },
            new[] { "RESTORE", "k2", "0", newer },
            new[] { "RESTORE", "k2", "0", "short" },
            new[] { "RESTORE", "k2", "0", payload, "BOGUS" },
            new[] { "RESTORE", "k2", "0", payload, "IDLETIME", "-1" },
            new[] { "RESTORE", "k2", "0", payload, "FREQ", "300" },
            new[] { "RESTORE", "k3", "1", payload, "ABSTTL" },
            new[] { "EXISTS", "k3" },
            new[] { "RESTORE", "k4", "100000", payload },
            new[] { "RESTORE", "k5", "0", payload, "IDLETIME", "10", "REPLACE" },
            new[] { "GET", "k5" },
            new[] { "DUMP", "missing" },
            new[] { "DUMP" },
            new[] { "RESTORE", "k6", "0" },
            new[] { "LASTSAVE", "x" },
            new[] { "SAVE", "x" },
            new[] { "BGSAVE", "x" },
        };
        foreach (var command in cases)
            Assert.That(p.Command(command), Is.EqualTo(r.Command(command)), string.Join(' ', command.Take(2)));
        Assert.That(p.Command("TYPE", "k4"), Is.EqualTo("+string\r\n"));
        // A DUMP of a string from psyncd is accepted by redis and gives the same value.
        p.Call("SET", "n", "12345");
        Assert.That(r.Call("RESTORE", "n", "0", (string)p.Call("DUMP", "n")!), Is.EqualTo("OK"));
        Assert.That(r.Call("GET", "n"), Is.EqualTo("12345"));
    }

    private static string Value(SortedDictionary<string, string> contents, string key)
    {
        var text = contents[key];
        return text[(text.IndexOf(' ', text.IndexOf(' ') + 1) + 1)..];
    }
}
