using System.Diagnostics;
using System.Net.Sockets;

namespace Psyncd.Tests.Support;

/// <summary>
/// The engines for scale that run beside psyncd unchanged: redis-sentinel (failover) and twemproxy
/// (nutcracker, sharding). Both are started like the servers, on a free port in a directory of their own,
/// and stopped by their PID.
/// </summary>
public sealed partial class ServerProcess
{
    /// <summary>
    /// Starts a redis-sentinel that monitors the master at <paramref name="masterPort"/> as
    /// <paramref name="masterName"/>. The timings are short so that a test sees a failover within seconds:
    /// the master is subjectively down after <paramref name="downAfterMs"/> of silence.
    /// </summary>
    public static ServerProcess StartSentinel(string masterName, int masterPort, int quorum, int downAfterMs = 1000)
        => StartOnFreePort((dir, port) =>
        {
            // Sentinel rewrites its configuration file as it learns the topology, so it gets a file of its own.
            string conf = Path.Combine(dir, "sentinel.conf");
            File.WriteAllLines(conf,
            [
                "port " + port,
                "bind 127.0.0.1",
                "dir " + dir,
                "sentinel monitor " + masterName + " 127.0.0.1 " + masterPort + " " + quorum,
                "sentinel down-after-milliseconds " + masterName + " " + downAfterMs,
                "sentinel failover-timeout " + masterName + " 10000",
                "sentinel parallel-syncs " + masterName + " 1",
            ]);
            var start = new ProcessStartInfo(Tools.Require("redis-sentinel")) { UseShellExecute = false };
            start.ArgumentList.Add(conf);
            return Launch(start, port, dir, "redis-sentinel", waitReady: true);
        });

    /// <summary>
    /// Starts twemproxy on a free port in front of <paramref name="shards"/> (ketama over fnv1a_64, as its
    /// documentation's Redis example). The stats port is a free one too: the default (22222) would make two
    /// proxies on this machine collide.
    /// </summary>
    public static ServerProcess StartTwemproxy(params int[] shards)
        => StartOnFreePort((dir, port) =>
        {
            string conf = Path.Combine(dir, "nutcracker.yml");
            var lines = new List<string>
            {
                "psyncd:",
                "  listen: 127.0.0.1:" + port,
                "  hash: fnv1a_64",
                "  distribution: ketama",
                "  redis: true",
                "  auto_eject_hosts: false",
                "  timeout: 5000",
                "  servers:",
            };
            for (int i = 0; i < shards.Length; i++)
                lines.Add("   - 127.0.0.1:" + shards[i] + ":1 shard" + i);
            File.WriteAllLines(conf, lines);
            var start = new ProcessStartInfo(Tools.Require("nutcracker")) { UseShellExecute = false };
            foreach (var arg in new[] { "-c", conf, "-s", FreePort.Next().ToString(), "-a", "127.0.0.1", "-p", Path.Combine(dir, "nutcracker.pid"), "-o", Path.Combine(dir, "nutcracker.log") })
                start.ArgumentList.Add(arg);
            var proxy = Launch(start, port, dir, "nutcracker", waitReady: false);
            proxy.WaitProxying(TimeSpan.FromSeconds(30));
            return proxy;
        });

    /// <summary>
    /// twemproxy answers no INFO, so readiness is a command that goes through it to a shard. A proxy that
    /// lost the port to another process exits, and its log says why.
    /// </summary>
    private void WaitProxying(TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                string log = File.Exists(Path.Combine(Dir, "nutcracker.log")) ? File.ReadAllText(Path.Combine(Dir, "nutcracker.log")) : Output;
                if (log.Contains("Address already in use", StringComparison.Ordinal))
                    throw new PortTakenException("nutcracker could not bind port " + Port + ":\n" + log);
                Assert.Fail("nutcracker exited with code " + _process.ExitCode + ":\n" + log);
            }
            try
            {
                using var client = new RawClient(Port, TimeSpan.FromSeconds(5));
                if (client.Command("EXISTS", "twemproxy:ready") == ":0\r\n")
                    return;
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                // Not listening yet.
            }
            Thread.Sleep(50);
        }
        Assert.Fail("nutcracker did not proxy a command within " + timeout.TotalSeconds + " s:\n" + Output);
    }
}
