using System.Diagnostics;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Integration.Admin;

/// <summary>INFO, CONFIG, CLIENT, DEBUG, MONITOR, SLOWLOG on a running psyncd.</summary>
public class AdminCommandTests
{
    private ServerProcess _server = null!;

    [OneTimeSetUp]
    public void Start() => _server = ServerProcess.StartPsyncd("--enable-debug-command", "yes");

    [OneTimeTearDown]
    public void Stop() => _server.Dispose();

    private static Dictionary<string, string> Fields(string bulk)
    {
        var fields = new Dictionary<string, string>();
        foreach (var line in bulk.Split("\r\n"))
        {
            if (line.Length == 0 || line[0] == '#')
                continue;
            int colon = line.IndexOf(':');
            Assert.That(colon, Is.GreaterThan(0), "INFO line without a colon: " + line);
            fields[line[..colon]] = line[(colon + 1)..];
        }
        return fields;
    }

    private string Info(RawClient c, params string[] sections)
    {
        var reply = c.Call(new[] { "INFO" }.Concat(sections).ToArray());
        Assert.That(reply, Is.InstanceOf<string>(), "INFO answers a bulk string");
        return (string)reply!;
    }

    [Test]
    public void InfoHasRedisSectionsAndTheFieldsToolsRead()
    {
        using var c = _server.Connect();
        Assert.That(c.Command("INFO"), Does.StartWith("$"), "a bulk reply");
        var text = Info(c);
        foreach (var section in new[] { "# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Replication", "# CPU", "# Keyspace" })
            Assert.That(text, Does.Contain(section + "\r\n"));
        Assert.That(text, Does.Not.Contain("# Commandstats"), "commandstats is not a default section");
        var f = Fields(text);
        string[] required =
        {
            "redis_version", "redis_mode", "os", "arch_bits", "process_id", "run_id", "tcp_port", "uptime_in_seconds", "uptime_in_days",
            "hz", "config_file", "connected_clients", "blocked_clients", "used_memory", "used_memory_human", "used_memory_rss",
            "used_memory_peak", "maxmemory", "maxmemory_policy", "mem_fragmentation_ratio", "loading", "rdb_changes_since_last_save",
            "rdb_bgsave_in_progress", "rdb_last_save_time", "rdb_last_bgsave_status", "total_connections_received",
            "total_commands_processed", "instantaneous_ops_per_sec", "total_net_input_bytes", "rejected_connections", "sync_full",
            "sync_partial_ok", "sync_partial_err", "expired_keys", "evicted_keys", "keyspace_hits", "keyspace_misses", "pubsub_channels",
            "latest_fork_usec", "role", "connected_slaves", "master_replid", "master_replid2", "master_repl_offset", "second_repl_offset",
            "repl_backlog_active", "repl_backlog_size", "repl_backlog_first_byte_offset", "repl_backlog_histlen", "used_cpu_sys",
            "used_cpu_user", "store_log_bytes", "store_log_capacity", "store_garbage_bytes",
        };
        foreach (var name in required)
            Assert.That(f.ContainsKey(name), Is.True, name + " missing from INFO");
        Assert.That(f["redis_version"], Is.EqualTo("2.8.24"));
        Assert.That(f["redis_mode"], Is.EqualTo("standalone"));
        Assert.That(f["process_id"], Is.EqualTo(_server.Pid.ToString()));
        Assert.That(f["tcp_port"], Is.EqualTo(_server.Port.ToString()));
        Assert.That(f["run_id"], Does.Match("^[0-9a-f]{40}$"));
        Assert.That(f["master_replid"], Does.Match("^[0-9a-f]{40}$"));
        Assert.That(f["role"], Is.EqualTo("master"));
        Assert.That(long.Parse(f["used_memory_rss"]), Is.GreaterThan(1 << 20));
        Assert.That(long.Parse(f["used_memory"]), Is.GreaterThan(0));
        Assert.That(long.Parse(f["connected_clients"]), Is.GreaterThanOrEqualTo(1));
        Assert.That(f["rdb_last_bgsave_status"], Is.EqualTo("ok"));
        Assert.That(long.Parse(f["store_log_capacity"]), Is.GreaterThan(0));

        c.Command("SET", "info:big", new string('b', 100_000));
        c.Command("GET", "info:big");
        var after = Fields(Info(c, "stats"));
        Assert.That(long.Parse(after["total_net_output_bytes"]), Is.GreaterThanOrEqualTo(long.Parse(f["total_net_output_bytes"]) + 100_000));
        Assert.That(long.Parse(after["total_net_input_bytes"]), Is.GreaterThanOrEqualTo(long.Parse(f["total_net_input_bytes"]) + 100_000));
    }

    [Test]
    public void InfoSectionsCanBeAskedOneByOneAndAllAddsCommandstats()
    {
        using var c = _server.Connect();
        var memory = Info(c, "memory");
        Assert.That(memory, Does.StartWith("# Memory\r\n"));
        Assert.That(memory, Does.Not.Contain("# Server"));
        Assert.That(Info(c, "MEMORY"), Does.StartWith("# Memory\r\n"), "section names are case-insensitive");
        Assert.That(Info(c, "nosuch"), Is.EqualTo(""));
        c.Command("SET", "info:cs", "1");
        var all = Info(c, "all");
        Assert.That(all, Does.Contain("# Commandstats\r\n"));
        Assert.That(all, Does.Match(@"cmdstat_set:calls=\d+,usec=\d+,usec_per_call=\d+\.\d\d"));
        Assert.That(Info(c, "everything"), Does.Contain("# Commandstats\r\n"));
        var two = Info(c, "server", "keyspace");
        Assert.That(two, Does.StartWith("# Server\r\n").And.Contain("# Keyspace\r\n").And.Not.Contain("# Memory"));
    }

    [Test]
    public void InfoKeyspaceCountsKeysAndExpires()
    {
        using var c = _server.Connect();
        c.Command("SELECT", "5");
        c.Command("SET", "ks:a", "1");
        c.Command("SET", "ks:b", "1", "EX", "1000");
        var line = Info(c, "keyspace").Split("\r\n").Single(l => l.StartsWith("db5:"));
        Assert.That(line, Does.Match(@"^db5:keys=2,expires=1,avg_ttl=\d+$"));
        long avg = long.Parse(line[(line.LastIndexOf('=') + 1)..]);
        Assert.That(avg, Is.InRange(900_000, 1_000_000));
    }

    [Test]
    public void ConfigResetStatResetsCountersAndCommandStats()
    {
        using var server = ServerProcess.StartPsyncd();
        using var c = server.Connect();
        c.Command("SET", "k", "v");
        c.Command("GET", "k");
        c.Command("GET", "missing");
        Assert.That(Fields(Info(c, "stats"))["keyspace_hits"], Is.EqualTo("1"));
        Assert.That(c.Command("CONFIG", "RESETSTAT"), Is.EqualTo("+OK\r\n"));
        var f = Fields(Info(c, "all"));
        Assert.That(f["keyspace_hits"], Is.EqualTo("0"));
        Assert.That(f["keyspace_misses"], Is.EqualTo("0"));
        Assert.That(long.Parse(f["total_commands_processed"]), Is.LessThanOrEqualTo(1));
        Assert.That(f.ContainsKey("cmdstat_get"), Is.False, "command stats were reset");
    }

    [Test]
    public void ConfigSetLoglevelAndRequirepassTakeEffect()
    {
        using var server = ServerProcess.StartPsyncd();
        using var admin = server.Connect();
        Assert.That(admin.Command("CONFIG", "SET", "loglevel", "verbose"), Is.EqualTo("+OK\r\n"));
        using (var probe = server.Connect())
            probe.Command("PING");
        Eventually.True(() => server.Output.Contains(" - Accepted "), TimeSpan.FromSeconds(10), "verbose lines are logged after CONFIG SET loglevel verbose");

        Assert.That(admin.Command("CONFIG", "SET", "requirepass", "s3cret"), Is.EqualTo("+OK\r\n"));
        Assert.That(admin.Command("PING"), Is.EqualTo("+PONG\r\n"), "connections already open stay authenticated");
        using var late = server.Connect();
        Assert.That(late.Command("GET", "x"), Is.EqualTo("-NOAUTH Authentication required.\r\n"));
        Assert.That(late.Command("AUTH", "s3cret"), Is.EqualTo("+OK\r\n"));
        Assert.That(late.Command("GET", "x"), Is.EqualTo("$-1\r\n"));
        Assert.That(admin.Command("CONFIG", "SET", "requirepass", ""), Is.EqualTo("+OK\r\n"));
        using var free = server.Connect();
        Assert.That(free.Command("GET", "x"), Is.EqualTo("$-1\r\n"));
    }

    [Test]
    public void ConfigRewriteUpdatesTheConfigFileInPlace()
    {
        string dir = ServerProcess.NewDir();
        string conf = Path.Combine(dir, "psyncd.conf");
        File.WriteAllText(conf, "# my settings\nport 1\nmaxmemory-samples 3\n# trailing comment\nappendfsync everysec\n");
        int port = FreePort.Next();
        using var server = ServerProcess.LaunchPsyncdRaw(dir, conf, "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--dir", dir, "--store-log-memory", "64mb");
        Eventually.True(() => server.Output.Contains("Ready to accept connections"), TimeSpan.FromSeconds(60), "server ready:\n" + server.Output);
        using var c = new RawClient(port);
        Assert.That(c.Command("CONFIG", "SET", "maxmemory-samples", "9"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("CONFIG", "SET", "timeout", "77"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("CONFIG", "REWRITE"), Is.EqualTo("+OK\r\n"));
        var lines = File.ReadAllLines(conf);
        Assert.That(lines[0], Is.EqualTo("# my settings"));
        Assert.That(lines[1], Is.EqualTo("port " + port), "the running port replaces the file's");
        Assert.That(lines[2], Is.EqualTo("maxmemory-samples 9"));
        Assert.That(lines[3], Is.EqualTo("# trailing comment"));
        Assert.That(lines[4], Is.EqualTo("appendfsync everysec"), "lines psyncd does not manage are kept");
        Assert.That(lines, Does.Contain("timeout 77"));
        Assert.That(lines, Does.Contain("save \"\""));
    }

    [Test]
    public void ClientListShowsEveryConnectionWithRedisFields()
    {
        using var a = _server.Connect();
        using var b = _server.Connect();
        a.Command("CLIENT", "SETNAME", "list-a");
        b.Command("SELECT", "3");
        var list = (string)a.Call("CLIENT", "LIST")!;
        var lines = list.TrimEnd('\n').Split('\n');
        var mine = lines.Single(l => l.Contains(" name=list-a "));
        foreach (var field in new[] { "id", "addr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub", "multi", "qbuf", "qbuf-free", "obl", "oll", "omem", "events", "cmd" })
            Assert.That(mine, Does.Match("(^| )" + field + "="), field);
        Assert.That(mine, Does.Contain(" flags=N ").And.Contain(" db=0 ").And.Contain(" cmd=client"));
        long bId = (long)b.Call("CLIENT", "ID")!;
        var other = lines.Single(l => l.StartsWith("id=" + bId + " "));
        Assert.That(other, Does.Contain(" db=3 ").And.Contain(" cmd=select"));
        Assert.That((string)a.Call("CLIENT", "INFO")!, Does.Contain(" name=list-a "));
    }

    [Test]
    public void ClientKillByAddressIdAndType()
    {
        using var killer = _server.Connect();
        using var byAddr = _server.Connect();
        using var byId = _server.Connect();
        byAddr.Command("CLIENT", "SETNAME", "kill-addr");
        var list = (string)killer.Call("CLIENT", "LIST")!;
        var addr = list.Split('\n').Single(l => l.Contains(" name=kill-addr ")).Split(' ').Single(f => f.StartsWith("addr="))[5..];
        Assert.That(killer.Command("CLIENT", "KILL", addr), Is.EqualTo("+OK\r\n"));
        Assert.That(byAddr.IsClosedByServer(TimeSpan.FromSeconds(5)), Is.True);

        long id = (long)byId.Call("CLIENT", "ID")!;
        Assert.That(killer.Command("CLIENT", "KILL", "ID", id.ToString()), Is.EqualTo(":1\r\n"));
        Assert.That(byId.IsClosedByServer(TimeSpan.FromSeconds(5)), Is.True);

        Assert.That(killer.Command("CLIENT", "KILL", "ID", ((long)killer.Call("CLIENT", "ID")!).ToString()), Is.EqualTo(":0\r\n"), "SKIPME yes by default");
        Assert.That(killer.Command("CLIENT", "KILL", "TYPE", "master"), Is.EqualTo(":0\r\n"));
        Assert.That(killer.Command("CLIENT", "KILL", "ID", ((long)killer.Call("CLIENT", "ID")!).ToString(), "SKIPME", "no"), Is.EqualTo(":1\r\n"));
        Assert.That(killer.IsClosedByServer(TimeSpan.FromSeconds(5)), Is.True, "a client may kill itself");
    }

    [Test]
    public void ClientKillTypeNormalKillsOtherNormalClients()
    {
        using var server = ServerProcess.StartPsyncd();
        using var killer = server.Connect();
        Eventually.True(() => ((string)killer.Call("INFO", "clients")!).Contains("connected_clients:1\r\n"), TimeSpan.FromSeconds(10),
            "the startup probe's connection is gone");
        using var v1 = server.Connect();
        using var v2 = server.Connect();
        v1.Command("PING");
        v2.Command("PING");
        Assert.That(killer.Command("CLIENT", "KILL", "TYPE", "normal"), Is.EqualTo(":2\r\n"));
        Assert.That(v1.IsClosedByServer(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(v2.IsClosedByServer(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(killer.Command("PING"), Is.EqualTo("+PONG\r\n"));
    }

    [Test]
    public void ClientPauseHoldsOtherClientsCommands()
    {
        using var server = ServerProcess.StartPsyncd();
        using var admin = server.Connect();
        using var other = server.Connect();
        Assert.That(other.Command("PING"), Is.EqualTo("+PONG\r\n"));
        var watch = Stopwatch.StartNew();
        Assert.That(admin.Command("CLIENT", "PAUSE", "600"), Is.EqualTo("+OK\r\n"));
        Assert.That(other.Command("SET", "paused", "1"), Is.EqualTo("+OK\r\n"));
        Assert.That(watch.ElapsedMilliseconds, Is.GreaterThanOrEqualTo(500), "the command waited for the pause to end");
        Assert.That(admin.Command("GET", "paused"), Is.EqualTo("$1\r\n1\r\n"));
    }

    [Test]
    public void DebugSleepBlocksTheWholeServer()
    {
        using var sleeper = _server.Connect();
        using var other = _server.Connect();
        other.Command("PING");
        sleeper.Send("DEBUG", "SLEEP", "1");
        // A PING may overtake the DEBUG SLEEP on its way in; once the sleep has begun, a PING waits for it.
        var bound = Stopwatch.StartNew();
        long longest = 0;
        while (longest < 250 && bound.Elapsed < TimeSpan.FromSeconds(5))
        {
            var watch = Stopwatch.StartNew();
            Assert.That(other.Command("PING"), Is.EqualTo("+PONG\r\n"));
            longest = Math.Max(longest, watch.ElapsedMilliseconds);
        }
        Assert.That(longest, Is.GreaterThanOrEqualTo(250), "a PING sent during DEBUG SLEEP waited for it");
        Assert.That(sleeper.ReadReply(), Is.EqualTo("+OK\r\n"));
    }

    [Test]
    public void DebugDigestIsOrderIndependentAndDataDependent()
    {
        using var s1 = ServerProcess.StartPsyncd("--enable-debug-command", "yes");
        using var s2 = ServerProcess.StartPsyncd("--enable-debug-command", "yes");
        using var a = s1.Connect();
        using var b = s2.Connect();
        string zeros = "+" + new string('0', 40) + "\r\n";
        Assert.That(a.Command("DEBUG", "DIGEST"), Is.EqualTo(zeros), "an empty dataset digests to zeros");
        a.Command("SET", "d:1", "one");
        a.Command("SET", "d:2", "two");
        a.Command("SET", "d:3", "three", "PX", "100000000");
        b.Command("SET", "d:3", "three", "PX", "100000000");
        b.Command("SET", "d:2", "two");
        b.Command("SET", "d:1", "one");
        var da = a.Command("DEBUG", "DIGEST");
        Assert.That(da, Does.Match("^\\+[0-9a-f]{40}\r\n$").And.Not.EqualTo(zeros));
        Assert.That(b.Command("DEBUG", "DIGEST"), Is.EqualTo(da), "same data, inserted in another order");
        b.Command("SET", "d:2", "TWO");
        Assert.That(b.Command("DEBUG", "DIGEST"), Is.Not.EqualTo(da));
        b.Command("SET", "d:2", "two");
        Assert.That(b.Command("DEBUG", "DIGEST"), Is.EqualTo(da));
        b.Command("PERSIST", "d:3");
        b.Command("SELECT", "1");
        b.Command("SET", "d:1", "one");
        Assert.That(b.Command("DEBUG", "DIGEST"), Is.Not.EqualTo(da), "another database's key changes the digest");

        var values = (object?[])a.Call("DEBUG", "DIGEST-VALUE", "d:1", "nokey")!;
        Assert.That((string)values[0]!, Does.Match("^[0-9a-f]{40}$").And.Not.EqualTo(new string('0', 40)));
        Assert.That(values[1], Is.EqualTo(new string('0', 40)));
        Assert.That(a.Command("DEBUG", "OBJECT", "d:1"), Does.Match("^\\+Value at:0x[0-9a-f]+ refcount:1 encoding:embstr serializedlength:\\d+ lru:\\d+ lru_seconds_idle:\\d+\r\n$"));
    }

    [Test]
    public void MonitorStreamsCommandsInRedisFormat()
    {
        using var monitor = _server.Connect();
        using var other = _server.Connect();
        Assert.That(monitor.Command("MONITOR"), Is.EqualTo("+OK\r\n"));
        other.Command("SET", "mon:key", "a b\n");
        string line;
        do
        {
            line = monitor.ReadReply();
        }
        while (!line.Contains("mon:key"));
        Assert.That(line, Does.Match("^\\+\\d+\\.\\d{6} \\[0 127\\.0\\.0\\.1:\\d+\\] \"SET\" \"mon:key\" \"a b\\\\n\"\r\n$"));
    }

    [Test]
    public void MonitorShowsScriptCommandsAsLuaInTheCallersDatabase()
    {
        using var monitor = _server.Connect();
        using var other = _server.Connect();
        Assert.That(monitor.Command("MONITOR"), Is.EqualTo("+OK\r\n"));
        other.Command("SELECT", "3");
        other.Command("EVAL", "return redis.call('set', 'mon:lua', 'v')", "0");
        var lines = new List<string>();
        do
        {
            lines.Add(monitor.ReadReply());
        }
        while (!lines[^1].Contains("\"set\" \"mon:lua\""));
        // As redis-server 7.0: the EVAL from the client's address, then each call as "[<db> lua]".
        Assert.That(lines[^2], Does.Match("^\\+\\d+\\.\\d{6} \\[3 127\\.0\\.0\\.1:\\d+\\] \"EVAL\" "));
        Assert.That(lines[^1], Does.Match("^\\+\\d+\\.\\d{6} \\[3 lua\\] \"set\" \"mon:lua\" \"v\"\r\n$"));
    }

    [Test]
    public void SlowlogRecordsGetLenAndReset()
    {
        using var server = ServerProcess.StartPsyncd("--slowlog-log-slower-than", "0");
        using var c = server.Connect();
        c.Command("CLIENT", "SETNAME", "slow-client");
        c.Command("SET", "slow:key", "v");
        var entries = (object?[])c.Call("SLOWLOG", "GET", "1")!;
        Assert.That(entries, Has.Length.EqualTo(1));
        var entry = (object?[])entries[0]!;
        Assert.That(entry, Has.Length.EqualTo(6));
        Assert.That(entry[0], Is.InstanceOf<long>());
        Assert.That((long)entry[1]!, Is.EqualTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds()).Within(5));
        Assert.That((object?[])entry[3]!, Is.EqualTo(new object[] { "SET", "slow:key", "v" }));
        Assert.That((string)entry[4]!, Does.StartWith("127.0.0.1:"));
        Assert.That(entry[5], Is.EqualTo("slow-client"));
        Assert.That((long)c.Call("SLOWLOG", "LEN")!, Is.GreaterThanOrEqualTo(2));
        Assert.That(c.Command("SLOWLOG", "RESET"), Is.EqualTo("+OK\r\n"));
        Assert.That((long)c.Call("SLOWLOG", "LEN")!, Is.LessThanOrEqualTo(1));
    }

    [Test]
    public void ShutdownNosaveStopsTheServerCleanly()
    {
        using var server = ServerProcess.StartPsyncd();
        using var c = server.Connect();
        c.Send("SHUTDOWN", "NOSAVE");
        Assert.That(c.IsClosedByServer(TimeSpan.FromSeconds(10)), Is.True, "no reply; the connection closes");
        Assert.That(server.WaitForExit(TimeSpan.FromSeconds(15)), Is.True, "exits");
        Assert.That(server.ExitCode, Is.EqualTo(0));
    }

    [Test]
    public void ShutdownRefusesWhenTheSaveCannotBeDone()
    {
        using var server = ServerProcess.StartPsyncd();
        using var c = server.Connect();
        c.Command("SET", "precious", "1");
        // With its directory gone the snapshot cannot be written: the server must stay up, holding the data.
        Directory.Delete(server.Dir, recursive: true);
        Assert.That(c.Command("SHUTDOWN", "SAVE"), Is.EqualTo("-ERR Errors trying to SHUTDOWN. Check logs.\r\n"));
        Assert.That(server.HasExited, Is.False);
        Assert.That(c.Command("GET", "precious"), Is.EqualTo("$1\r\n1\r\n"));
    }
}
