using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Server;

/// <summary>The real psyncd process: command line, startup failures, signals, sockets, logging, limits.</summary>
public class StartupTests
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(60);

    /// <summary>Starts psyncd with exactly <paramref name="args"/> and waits for its ready line (for servers PING can't probe).</summary>
    private static ServerProcess StartAndWaitReady(string dir, params string[] args)
    {
        var server = ServerProcess.LaunchPsyncdRaw(dir, args);
        Eventually.True(() => server.Output.Contains("Ready to accept connections") || server.HasExited, s_startTimeout, "psyncd is ready");
        Assert.That(server.HasExited, Is.False, "psyncd exited:\n" + server.Output);
        return server;
    }

    private static string[] Defaults(string dir, int port, params string[] extra)
        => new[] { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--dir", dir, "--store-log-memory", "64mb" }.Concat(extra).ToArray();

    [Test]
    public void CommandLineDirectivesAreApplied()
    {
        string dir = ServerProcess.NewDir();
        Directory.CreateDirectory(Path.Combine(dir, "data"));
        int port = FreePort.Next();
        using var server = StartAndWaitReady(dir, "--port", port.ToString(), "--save", "", "--dir", "./data", "--bind", "127.0.0.1", "--store-log-memory", "64mb");
        using var c = new RawClient(port);
        Assert.That(c.Command("CONFIG", "GET", "dir"), Is.EqualTo(Bulk2("dir", Path.Combine(dir, "data"))));
        Assert.That(c.Command("CONFIG", "GET", "save"), Is.EqualTo("*2\r\n$4\r\nsave\r\n$0\r\n\r\n"));
        Assert.That(c.Command("CONFIG", "GET", "port"), Is.EqualTo(Bulk2("port", port.ToString())));

        static string Bulk2(string a, string b) => "*2\r\n$" + a.Length + "\r\n" + a + "\r\n$" + b.Length + "\r\n" + b + "\r\n";
    }

    [Test]
    public void VersionAndHelp()
    {
        string dir = ServerProcess.NewDir();
        using var version = ServerProcess.LaunchPsyncdRaw(dir, "--version");
        Assert.That(version.WaitForExit(s_startTimeout), Is.True);
        Assert.That(version.ExitCode, Is.EqualTo(0));
        Assert.That(version.Output, Does.Match(@"^psyncd v=\S+ redis_version=2\.8\.24 bits=64"));
        using var shortVersion = ServerProcess.LaunchPsyncdRaw(dir, "-v");
        Assert.That(shortVersion.WaitForExit(s_startTimeout), Is.True);
        Assert.That(shortVersion.ExitCode, Is.EqualTo(0));

        using var help = ServerProcess.LaunchPsyncdRaw(dir, "--help");
        Assert.That(help.WaitForExit(s_startTimeout), Is.True);
        Assert.That(help.ExitCode, Is.EqualTo(1), "as redis-server --help");
        Eventually.True(() => help.Output.Contains("Usage: psyncd"), TimeSpan.FromSeconds(5), "usage is printed");
    }

    [Test]
    public void VersionAfterDirectivesChecksThemFirst()
    {
        string dir = ServerProcess.NewDir();
        using var known = ServerProcess.LaunchPsyncdRaw(dir, "--enable-debug-command", "yes", "--version");
        Assert.That(known.WaitForExit(s_startTimeout), Is.True);
        Assert.That(known.ExitCode, Is.EqualTo(0), known.Output);
        using var unknown = ServerProcess.LaunchPsyncdRaw(dir, "--no-such-directive", "yes", "--version");
        Assert.That(unknown.WaitForExit(s_startTimeout), Is.True);
        Assert.That(unknown.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void ConfigErrorsAreReportedWithTheLineAndExitOne()
    {
        string dir = ServerProcess.NewDir();
        string conf = Path.Combine(dir, "bad.conf");
        File.WriteAllText(conf, "port 7000\n# fine so far\nmaxmemory lots\n");
        using var bad = ServerProcess.LaunchPsyncdRaw(dir, conf);
        Assert.That(bad.WaitForExit(s_startTimeout), Is.True);
        Assert.That(bad.ExitCode, Is.EqualTo(1));
        Eventually.True(() => bad.Output.Contains("argument must be a memory value"), TimeSpan.FromSeconds(5), "the reason is printed");
        Assert.That(bad.Output, Does.Contain("*** FATAL CONFIG FILE ERROR ***").And.Contain("at line 3").And.Contain(">>> 'maxmemory lots'"));

        using var unknown = ServerProcess.LaunchPsyncdRaw(dir, "--port", "7000", "--no-such-directive", "1");
        Assert.That(unknown.WaitForExit(s_startTimeout), Is.True);
        Assert.That(unknown.ExitCode, Is.EqualTo(1));
        Eventually.True(() => unknown.Output.Contains("Bad directive or wrong number of arguments"), TimeSpan.FromSeconds(5), "the reason is printed");
        Assert.That(unknown.Output, Does.Contain(">>> 'no-such-directive \"1\"'"), "command-line values are quoted in the report, as redis-server 7 shows them");

        using var missing = ServerProcess.LaunchPsyncdRaw(dir, Path.Combine(dir, "nonexistent.conf"));
        Assert.That(missing.WaitForExit(s_startTimeout), Is.True);
        Assert.That(missing.ExitCode, Is.EqualTo(1));
    }

    [Test]
    public void PortAlreadyInUseIsLoggedAndExitsOne()
    {
        var blocker = new TcpListener(IPAddress.Loopback, 0);
        blocker.Start();
        try
        {
            int port = ((IPEndPoint)blocker.LocalEndpoint).Port;
            string dir = ServerProcess.NewDir();
            using var server = ServerProcess.LaunchPsyncdRaw(dir, Defaults(dir, port));
            Assert.That(server.WaitForExit(s_startTimeout), Is.True, "exits");
            Assert.That(server.ExitCode, Is.EqualTo(1));
            Eventually.True(() => server.Output.Contains("Address already in use"), TimeSpan.FromSeconds(5), "the failure is logged:\n" + server.Output);
            Assert.That(server.Output, Does.Contain("Failed listening on port " + port));
        }
        finally
        {
            blocker.Stop();
        }
    }

    [TestCase(Posix.SIGTERM, "SIGTERM")]
    [TestCase(2, "SIGINT")]
    public void SignalShutsDownCleanly(int signal, string name)
    {
        using var server = ServerProcess.StartPsyncd();
        using (var c = server.Connect())
            c.Command("SET", "k", "v");
        Posix.Signal(server.Pid, signal);
        // The bound is generous: a loaded machine slows the runtime's exit, which is not what is checked here.
        Assert.That(server.WaitForExit(TimeSpan.FromSeconds(60)), Is.True, name + " stops the server");
        Assert.That(server.ExitCode, Is.EqualTo(0), server.Output);
        Assert.That(server.Output, Does.Contain("Received " + name), "the signal is logged");
    }

    [Test]
    public void SurvivesSigstopAndSigcont()
    {
        using var server = ServerProcess.StartPsyncd();
        using var c = server.Connect();
        c.Command("SET", "before", "1");
        Posix.Signal(server.Pid, Posix.SIGSTOP);
        try
        {
            c.Send("SET", "during", "2");
            Thread.Sleep(500); // keep the process stopped a while; nothing is waited for here
        }
        finally
        {
            Posix.Signal(server.Pid, Posix.SIGCONT);
        }
        Assert.That(c.ReadReply(), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("GET", "before"), Is.EqualTo("$1\r\n1\r\n"));
        Assert.That(c.Command("GET", "during"), Is.EqualTo("$1\r\n2\r\n"));
        using var fresh = server.Connect();
        Assert.That(fresh.Command("PING"), Is.EqualTo("+PONG\r\n"));
    }

    [Test]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public void UnixSocketWithPermissions()
    {
        string redisCli = Tools.Require("redis-cli");
        using var server = ServerProcess.StartPsyncd("--unixsocket", "psyncd.sock", "--unixsocketperm", "700");
        string path = Path.Combine(server.Dir, "psyncd.sock");
        Assert.That(File.Exists(path), Is.True);
        Assert.That(File.GetUnixFileMode(path) & (UnixFileMode)0x1FF, Is.EqualTo((UnixFileMode)Convert.ToInt32("700", 8)));
        var cli = new ProcessStartInfo(redisCli) { RedirectStandardOutput = true, UseShellExecute = false, WorkingDirectory = server.Dir };
        foreach (var arg in new[] { "-s", path, "SET", "via-unix", "yes" })
            cli.ArgumentList.Add(arg);
        using (var p = Process.Start(cli)!)
        {
            Assert.That(p.StandardOutput.ReadToEnd().Trim(), Is.EqualTo("OK"));
            p.WaitForExit();
        }
        using var tcp = server.Connect();
        Assert.That(tcp.Command("GET", "via-unix"), Is.EqualTo("$3\r\nyes\r\n"));
        var list = (string)tcp.Call("CLIENT", "LIST")!;
        Assert.That(list, Does.Not.Contain(path + ":0"), "the redis-cli connection is gone");
        server.Stop();
        Assert.That(File.Exists(path), Is.False, "the socket file is removed at shutdown");
    }

    [Test]
    public void LogfileAndLoglevelUseRedisLineFormat()
    {
        string dir = ServerProcess.NewDir();
        string log = Path.Combine(dir, "psyncd.log");
        int port = FreePort.Next();
        using var server = ServerProcess.StartPsyncdIn(dir, port, "--logfile", log, "--loglevel", "verbose");
        using (var c = server.Connect())
            c.Command("PING");
        Eventually.True(() => File.Exists(log) && File.ReadAllText(log).Contains(" - Accepted "), TimeSpan.FromSeconds(10), "verbose lines reach the log file");
        server.Stop();
        var lines = File.ReadAllLines(log).Where(l => l.Length > 0).ToArray();
        var format = new Regex(@"^\d+:[MSC] \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d\.\d{3} [.\-*#] \S.*$");
        Assert.That(lines, Is.Not.Empty);
        foreach (var line in lines)
            Assert.That(format.IsMatch(line), Is.True, "not in redis-server's format: " + line);
        Assert.That(lines, Has.Some.Contains(" * Ready to accept connections"), "exit " + server.ExitCode + " file:\n" + File.ReadAllText(log) + "\nstdout:\n" + server.Output);
        Assert.That(lines, Has.Some.StartWith(server.Pid + ":M "));
        Assert.That(server.Output, Does.Not.Contain("Ready to accept connections"), "nothing goes to stdout with a logfile");

        string quietLog = Path.Combine(dir, "quiet.log");
        using var quiet = ServerProcess.StartPsyncdIn(dir, FreePort.Next(), "--logfile", quietLog, "--loglevel", "warning");
        using (var c = quiet.Connect())
            c.Command("PING");
        quiet.Stop();
        var quietLines = File.ReadAllLines(quietLog);
        Assert.That(quietLines, Has.None.Match(@"^\d+:[MSC] .{24} [.\-*] "), "only warnings at loglevel warning");
        Assert.That(quietLines, Has.Some.Contains(" # "));
    }

    [Test]
    public void RequirepassNeedsAuthFirst()
    {
        string dir = ServerProcess.NewDir();
        int port = FreePort.Next();
        using var server = StartAndWaitReady(dir, Defaults(dir, port, "--requirepass", "pw pw"));
        using var c = new RawClient(port);
        Assert.That(c.Command("SET", "k", "v"), Is.EqualTo("-NOAUTH Authentication required.\r\n"));
        Assert.That(c.Command("PING"), Is.EqualTo("-NOAUTH Authentication required.\r\n"));
        Assert.That(c.Command("AUTH", "wrong"), Is.EqualTo("-WRONGPASS invalid username-password pair or user is disabled.\r\n"));
        Assert.That(c.Command("AUTH", "pw pw"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("SET", "k", "v"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("CONFIG", "GET", "requirepass"), Is.EqualTo("*2\r\n$11\r\nrequirepass\r\n$5\r\npw pw\r\n"));
    }

    [Test]
    public void TimeoutClosesIdleClients()
    {
        using var server = ServerProcess.StartPsyncd("--timeout", "1");
        using var idle = server.Connect();
        using var busy = server.Connect();
        Assert.That(idle.Command("PING"), Is.EqualTo("+PONG\r\n"));
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < TimeSpan.FromSeconds(2.5))
        {
            Assert.That(busy.Command("PING"), Is.EqualTo("+PONG\r\n"), "an active client is not closed");
            Thread.Sleep(200);
        }
        Assert.That(idle.IsClosedByServer(TimeSpan.FromSeconds(5)), Is.True, "the idle client is closed");
    }

    [Test]
    public void MaxclientsRejectsTheExtraClient()
    {
        using var server = ServerProcess.StartPsyncd("--maxclients", "2");
        using var first = server.Connect();
        Eventually.True(() => ConnectedClients(first) == 1, TimeSpan.FromSeconds(10), "only the first client is connected");
        using var second = server.Connect();
        Assert.That(second.Command("PING"), Is.EqualTo("+PONG\r\n"));
        using var third = server.Connect();
        Assert.That(third.ReadReply(), Is.EqualTo("-ERR max number of clients reached\r\n"));
        Assert.That(third.IsClosedByServer(TimeSpan.FromSeconds(5)), Is.True);
        Assert.That(first.Command("PING"), Is.EqualTo("+PONG\r\n"));
        var stats = (string)first.Call("INFO", "stats")!;
        Assert.That(stats, Does.Contain("rejected_connections:1\r\n"));
    }

    private static long ConnectedClients(RawClient c)
    {
        var info = (string)c.Call("INFO", "clients")!;
        var line = info.Split("\r\n").Single(l => l.StartsWith("connected_clients:"));
        return long.Parse(line["connected_clients:".Length..]);
    }

    [Test]
    public void MaxmemoryWithNoevictionRefusesWritesOnceOverTheLimit()
    {
        using var server = ServerProcess.StartPsyncd();
        using var c = server.Connect();
        var memory = (string)c.Call("INFO", "memory")!;
        long used = long.Parse(memory.Split("\r\n").Single(l => l.StartsWith("used_memory:"))["used_memory:".Length..]);
        long limit = used + 32L * 1024 * 1024;
        Assert.That(c.Command("CONFIG", "SET", "maxmemory", limit.ToString()), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("CONFIG", "SET", "maxmemory-policy", "noeviction"), Is.EqualTo("+OK\r\n"));
        var value = new string('x', 256 * 1024);
        string? refusal = null;
        int written = 0;
        for (int i = 0; i < 1000 && refusal is null; i++)
        {
            var reply = c.Command("SET", "big:" + i, value);
            if (reply.StartsWith('-'))
                refusal = reply;
            else
                written++;
        }
        Assert.That(refusal, Is.EqualTo("-OOM command not allowed when used memory > 'maxmemory'.\r\n"));
        Assert.That(written, Is.GreaterThan(0));
        Assert.That(c.Command("GET", "big:0"), Does.StartWith("$262144\r\n"), "reads still work");
        Assert.That(c.Command("DEL", "big:0"), Is.EqualTo(":1\r\n"), "deletions still work");
        Assert.That(c.Command("CONFIG", "SET", "maxmemory", "0"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("SET", "after", "1"), Is.EqualTo("+OK\r\n"), "writes resume without a limit");
    }

    [Test]
    public void NoWriteIsSilentlyLostWhenTheStoreIsFull()
    {
        string dir = ServerProcess.NewDir();
        using var server = ServerProcess.StartPsyncdIn(dir, FreePort.Next(), "--store-log-memory", "16mb", "--store-log-page-size", "1mb");
        using var c = server.Connect();
        const int keys = 40_000;
        const int batch = 500;
        var value = new string('v', 900);
        var accepted = new bool[keys];
        int ok = 0;
        int oom = 0;
        for (int start = 0; start < keys; start += batch)
        {
            for (int i = start; i < start + batch; i++)
                c.Send("SET", "fill:" + i, value + i);
            for (int i = start; i < start + batch; i++)
            {
                var reply = c.ReadReply();
                if (reply == "+OK\r\n")
                {
                    accepted[i] = true;
                    ok++;
                }
                else
                {
                    Assert.That(reply, Does.StartWith("-OOM "), "fill:" + i);
                    oom++;
                }
            }
        }
        Assert.That(oom, Is.GreaterThan(0), "more than 16 MB was written, so some writes must have been refused");
        Assert.That(ok, Is.GreaterThan(1000));
        for (int start = 0; start < keys; start += batch)
        {
            for (int i = start; i < start + batch; i++)
                c.Send("GET", "fill:" + i);
            for (int i = start; i < start + batch; i++)
            {
                var reply = c.ReadReply();
                if (accepted[i])
                {
                    var expected = value + i;
                    Assert.That(reply, Is.EqualTo("$" + expected.Length + "\r\n" + expected + "\r\n"), "fill:" + i + " was acknowledged and must be readable");
                }
                else
                {
                    Assert.That(reply, Is.EqualTo("$-1\r\n"), "fill:" + i + " was refused and must not exist");
                }
            }
        }
        Assert.That(c.Command("DBSIZE"), Is.EqualTo(":" + ok + "\r\n"));
        Assert.That(server.HasExited, Is.False);
    }
}
