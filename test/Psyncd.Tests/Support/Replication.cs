namespace Psyncd.Tests.Support;

/// <summary>Helpers to watch replication converge, through INFO replication (same fields on psyncd and redis-server).</summary>
public static class ReplicationWatch
{
    public static Dictionary<string, string> Info(int port, string section = "replication")
    {
        using var client = new RawClient(port);
        var text = (string)client.Call("INFO", section)!;
        var fields = new Dictionary<string, string>();
        foreach (var line in text.Split("\r\n"))
        {
            int colon = line.IndexOf(':');
            if (colon > 0 && !line.StartsWith('#'))
                fields[line[..colon]] = line[(colon + 1)..];
        }
        return fields;
    }

    public static long Offset(int port) => long.Parse(Info(port)["master_repl_offset"]);

    /// <summary>Waits until the replica's link is up and its offset equals the master's.</summary>
    public static void WaitForSync(int master, int replica, TimeSpan? timeout = null)
    {
        Eventually.True(() =>
        {
            var info = Info(replica);
            return info.GetValueOrDefault("master_link_status") == "up" && long.Parse(info["master_repl_offset"]) == Offset(master);
        }, timeout ?? TimeSpan.FromSeconds(60), "the replica on port " + replica + " has the master's offset");
    }

    public static long Stat(int port, string name) => long.Parse(Info(port, "stats")[name]);
}
