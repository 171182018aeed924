using System.Diagnostics;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Scale;

/// <summary>
/// scripts/deploy-local, the README's "Running psyncd for real", run as a user would: up, a failover drill
/// through twemproxy, the killed master back as a replica, down. It fails when the script, sentinel's view of
/// psyncd or the proxy's re-pointing breaks.
/// </summary>
[Category("Scale")]
public class DeployLocalTests
{
    [Test]
    public void TwoShardsThreeSentinelsAndAProxySurviveTheLossOfAMaster()
    {
        Tools.Require("redis-sentinel");
        Tools.Require("nutcracker");
        Tools.Require("redis-cli");
        int port = FreePort.Range(22);
        string dir = Path.Combine(ServerProcess.NewDir(), "deploy");
        var pids = new List<int>();
        try
        {
            Run("up", "--base-port", port.ToString(), "--dir", dir);
            pids.AddRange(Directory.GetFiles(dir, "pid", SearchOption.AllDirectories).Select(f => int.Parse(File.ReadAllText(f).Trim())));
            Assert.That(pids, Has.Count.EqualTo(8), "four psyncd nodes, three sentinels, one proxy");

            int proxy = port + 20;
            using (var client = new RawClient(proxy))
                for (int i = 0; i < 200; i++)
                    Assert.That(client.Command("SET", "key:" + i, "value:" + i), Is.EqualTo("+OK\r\n"));
            // The writes are on the replicas before the drill, so the failover has everything to keep.
            ReplicationWatch.WaitForSync(port, port + 1);
            ReplicationWatch.WaitForSync(port + 2, port + 3);

            Assert.That(Run("kill-master", "shard1", "--dir", dir), Does.Contain("killed shard1-a"));
            Eventually.True(() => SentinelMaster(port + 10, "shard1") == port + 3, TimeSpan.FromSeconds(60), "the sentinels promoted shard1's replica");
            // The reconfig script re-points and restarts the proxy; then every key is served again.
            Eventually.True(() => AllKeysServed(proxy), TimeSpan.FromSeconds(60), "the proxy serves every key from the new master");
            Assert.That(Run("status", "--dir", dir), Does.Contain("shard1-a (" + (port + 2) + "): down"));

            Run("restart", "shard1-a", "--dir", dir);
            Eventually.True(() =>
            {
                var info = ReplicationWatch.Info(port + 2);
                return info["role"] == "slave" && info.GetValueOrDefault("master_port") == (port + 3).ToString() && info.GetValueOrDefault("master_link_status") == "up";
            }, TimeSpan.FromSeconds(60), "the old master is back as a replica of the promoted one");
            pids.Add(int.Parse(File.ReadAllText(Path.Combine(dir, "shard1-a", "pid")).Trim()));
            pids.Add(int.Parse(File.ReadAllText(Path.Combine(dir, "proxy", "pid")).Trim()));
        }
        finally
        {
            if (Directory.Exists(dir))
                Run("down", "--dir", dir);
        }
        Assert.That(pids.Where(Alive), Is.Empty, "down stopped every process the script started");
    }

    private static bool AllKeysServed(int proxy)
    {
        try
        {
            using var client = new RawClient(proxy, TimeSpan.FromSeconds(5));
            for (int i = 0; i < 200; i++)
                if (client.Command("GET", "key:" + i) != "$" + ("value:" + i).Length + "\r\nvalue:" + i + "\r\n")
                    return false;
            return true;
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException)
        {
            return false;
        }
    }

    private static int SentinelMaster(int sentinel, string name)
    {
        using var client = new RawClient(sentinel);
        var address = (object?[])client.Call("SENTINEL", "get-master-addr-by-name", name)!;
        return int.Parse((string)address[1]!);
    }

    private static bool Alive(int pid)
    {
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string Run(params string[] args)
    {
        var (exit, output) = ChildProcess.Run("bash", [Path.Combine(PsyncdBuild.RepoRoot, "scripts", "deploy-local"), .. args], TimeSpan.FromSeconds(180));
        Assert.That(exit, Is.Zero, "scripts/deploy-local " + string.Join(' ', args) + ":\n" + output);
        return output;
    }
}
