using System.Diagnostics;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Server;

/// <summary>Startup as redis-server does it: the mode-and-port line, the protected-mode notice, stale temp files, --daemonize yes.</summary>
public class StartupHardeningTests
{
    [Test]
    public void StartupNamesModeAndPortAsRedisDoes()
    {
        using var psyncd = ServerProcess.StartPsyncd("--always-show-logo", "no");
        using var redis = ServerProcess.StartRedis();
        foreach (var server in new[] { psyncd, redis })
        {
            Eventually.True(() => server.Output.Contains("Running mode=standalone, port=" + server.Port + ".") && server.Output.Contains("Server initialized"),
                TimeSpan.FromSeconds(10), server.Name + " names its mode and port");
        }
        Eventually.True(() => psyncd.Output.Contains("Protected mode is on and no password is set"), TimeSpan.FromSeconds(10), "the protected-mode notice");

        using var withPassword = ServerProcess.StartPsyncd("--requirepass", "pw");
        Eventually.True(() => withPassword.Output.Contains("Server initialized"), TimeSpan.FromSeconds(10), "started");
        Assert.That(withPassword.Output, Does.Not.Contain("Protected mode is on"), "a password serves every host: no notice");
    }

    /// <summary>
    /// The banner (psyncd's default, redis-server's with always-show-logo yes) names the port and the PID
    /// before the dataset is loaded, so that a server that cannot load its dump has said its PID before it
    /// fails: Redis 2.8's test runner waits for that line, and hung on integration/rdb without it.
    /// </summary>
    [Test]
    public void TheBannerWithThePidIsLoggedBeforeADumpThatCannotLoad()
    {
        Assert.That(ConfigValue(ServerProcess.StartPsyncd(), "always-show-logo"), Is.EqualTo("yes"), "psyncd's default");

        string dir = ServerProcess.NewDir();
        using (var writer = ServerProcess.StartPsyncdIn(dir, FreePort.Next()))
        {
            using var client = writer.Connect();
            Assert.That(client.Command("SET", "k", "v"), Is.EqualTo("+OK\r\n"));
            Assert.That(client.Command("SAVE"), Is.EqualTo("+OK\r\n"));
            writer.Kill();
        }
        string path = Path.Combine(dir, "dump.rdb");
        var dump = File.ReadAllBytes(path);
        dump[^3] ^= 0x5A; // a wrong checksum
        File.WriteAllBytes(path, dump);

        int psyncdPort = FreePort.Next(), redisPort = FreePort.Next();
        using var psyncd = ServerProcess.LaunchPsyncdRaw(dir, "--port", psyncdPort.ToString(), "--bind", "127.0.0.1", "--dir", dir);
        using var redis = ServerProcess.LaunchRedisRaw(dir, "--port", redisPort.ToString(), "--bind", "127.0.0.1", "--dir", dir, "--always-show-logo", "yes");
        foreach (var (server, port) in new[] { (psyncd, psyncdPort), (redis, redisPort) })
        {
            Assert.That(server.WaitForExit(TimeSpan.FromSeconds(60)), Is.True, server.Name + " exits");
            Eventually.True(() => server.Output.Contains("RDB checksum", StringComparison.Ordinal), TimeSpan.FromSeconds(10), server.Name + " logs why");
            string output = server.Output;
            Assert.That(output, Does.Match(@"Port: +" + port + @"\b"), server.Name);
            int pid = output.IndexOf("PID: " + server.Pid, StringComparison.Ordinal);
            Assert.That(pid, Is.GreaterThanOrEqualTo(0).And.LessThan(output.IndexOf("RDB checksum", StringComparison.Ordinal)),
                server.Name + " says its PID before the failure:\n" + output);
        }
    }

    private static string ConfigValue(ServerProcess server, string name)
    {
        using (server)
        using (var client = server.Connect())
            return ((object?[])client.Call("CONFIG", "GET", name)!)[1]!.ToString()!;
    }

    [Test]
    public void StaleTempFilesOfDeadProcessesAreRemovedAtStartup()
    {
        string dir = ServerProcess.NewDir();
        // Above any pid_max: certainly no live process. Our own pid: certainly alive.
        string dead = Path.Combine(dir, "temp-2147483646.rdb");
        string deadBgsave = Path.Combine(dir, "temp-2147483646-3.rdb");
        string alive = Path.Combine(dir, "temp-" + Environment.ProcessId + ".rdb");
        string aliveBgsave = Path.Combine(dir, "temp-" + Environment.ProcessId + "-1.rdb");
        string other = Path.Combine(dir, "temp-notapid.rdb");
        foreach (var path in new[] { dead, deadBgsave, alive, aliveBgsave, other })
            File.WriteAllText(path, "REDIS0006 half-written");
        try
        {
            using var server = ServerProcess.StartPsyncdIn(dir, FreePort.Next());
            Assert.That(File.Exists(dead), Is.False, "a dead process's temp file is removed before the server serves");
            Assert.That(File.Exists(deadBgsave), Is.False, "so is the file of a dead process's BGSAVE");
            Assert.That(File.Exists(alive), Is.True, "a live process's temp file is kept");
            Assert.That(File.Exists(aliveBgsave), Is.True, "and its BGSAVE's");
            Assert.That(File.Exists(other), Is.True, "only temp-<pid>.rdb files are considered");
            Eventually.True(() => server.Output.Contains("Removed the stale temp file temp-2147483646.rdb"), TimeSpan.FromSeconds(10), "the removal is logged");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void DaemonizeReturnsAtOnceAndTheDaemonServesFromThePidInThePidfile()
    {
        string dir = ServerProcess.NewDir();
        int port = FreePort.Next();
        string pidfile = Path.Combine(dir, "psyncd.pid");
        string log = Path.Combine(dir, "psyncd.log");
        string script = Path.Combine(PsyncdBuild.RepoRoot, "scripts", "psyncd");
        // Command substitution waits until every holder of its pipe closes it: it returns only if the daemon
        // kept none of the caller's standard streams.
        var start = new ProcessStartInfo("bash") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("out=$(\"$0\" --daemonize yes --port " + port + " --bind 127.0.0.1 --save '' --dir \"$1\" --pidfile \"$2\" --logfile \"$3\"); echo \"rc=$? out=[$out]\"");
        foreach (var arg in new[] { script, dir, pidfile, log })
            start.ArgumentList.Add(arg);
        int daemon = 0;
        try
        {
            using (var caller = Process.Start(start)!)
            {
                Assert.That(caller.WaitForExit(TimeSpan.FromSeconds(60)), Is.True, "$(psyncd --daemonize yes ...) returns");
                Assert.That(caller.StandardOutput.ReadToEnd().Trim(), Is.EqualTo("rc=0 out=[]"), caller.StandardError.ReadToEnd());
            }
            Eventually.True(() => File.Exists(pidfile) && int.TryParse(File.ReadAllText(pidfile).Trim(), out daemon), TimeSpan.FromSeconds(30), "the daemon writes its pid file");
            Assert.That(Directory.Exists("/proc/" + daemon), Is.True, "the pid file names a live process");
            Assert.That(File.ReadAllText("/proc/" + daemon + "/cmdline"), Does.Contain(port.ToString()), "the pid is the daemon's");
            Eventually.True(() =>
            {
                try
                {
                    using var c = new RawClient(port);
                    return c.Command("PING") == "+PONG\r\n";
                }
                catch (Exception e) when (e is System.Net.Sockets.SocketException or IOException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(30), "the daemon serves PING");
            using (var c = new RawClient(port))
                Assert.That(c.Call("CONFIG", "GET", "daemonize"), Is.EqualTo(new object?[] { "daemonize", "yes" }));
            Assert.That(File.ReadAllText(log), Does.Contain("Port: " + port), "the daemon logs to its logfile");
            foreach (var fd in new[] { "0", "1", "2" })
                Assert.That(new FileInfo("/proc/" + daemon + "/fd/" + fd).LinkTarget, Is.EqualTo("/dev/null"), "standard stream " + fd);

            Posix.Signal(daemon, Posix.SIGTERM);
            Eventually.True(() => !Directory.Exists("/proc/" + daemon), TimeSpan.FromSeconds(30), "the daemon stops on SIGTERM");
            daemon = 0;
            Assert.That(File.Exists(pidfile), Is.False, "the pid file is removed at shutdown");
        }
        finally
        {
            if (daemon != 0)
                Posix.Signal(daemon, Posix.SIGKILL);
            Directory.Delete(dir, recursive: true);
        }
    }
}
