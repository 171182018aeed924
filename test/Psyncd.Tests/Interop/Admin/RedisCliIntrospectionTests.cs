using System.Diagnostics;
using System.Text.RegularExpressions;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Admin;

/// <summary>
/// What redis-cli does with psyncd's introspection: <c>help @group</c> (redis-cli reads COMMAND DOCS at start)
/// lists psyncd's commands with psyncd's summaries, <c>--memkeys</c> shows MEMORY USAGE's sizes, and
/// <c>-3</c> talks RESP3.
/// </summary>
[Category("Interop")]
public class RedisCliIntrospectionTests : PsyncdFixture
{
    private static string RedisCli(int port, params string[] args)
    {
        var start = new ProcessStartInfo(Tools.Require("redis-cli")) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-p");
        start.ArgumentList.Add(port.ToString());
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        string output = process.StandardOutput.ReadToEnd();
        Assert.That(process.WaitForExit(TimeSpan.FromSeconds(60)), Is.True, "redis-cli " + string.Join(' ', args));
        return Regex.Replace(output, "\u001b\\[[0-9;]*m", "");
    }

    [Test]
    public void HelpOfAGroupListsWhatPsyncdHasWithItsSummaries()
    {
        // Expected: the commands of the "string" group in psyncd's COMMAND DOCS.
        var docs = RespTree.Parse(Client.Command("COMMAND", "DOCS"));
        var strings = new List<string>();
        for (int i = 0; i + 1 < docs.Items.Count; i += 2)
        {
            if (docs.Items[i + 1].Get("group")?.Text == "string")
                strings.Add(docs.Items[i].Text.ToUpperInvariant());
        }
        Assert.That(strings, Does.Contain("GET").And.Contain("INCRBYFLOAT"));

        string help = RedisCli(Server.Port, "help", "@string");
        var listed = Regex.Matches(help, @"^  ([A-Z][A-Z0-9-]*)\b", RegexOptions.Multiline).Select(m => m.Groups[1].Value).ToList();
        Assert.That(listed, Is.EquivalentTo(strings), help);
        // redis-cli's own table (its fallback) would list LCS and GETEX, which psyncd lacks, with Redis's summaries.
        Assert.That(help, Does.Contain("summary: Answers the string value of a key."));
    }

    [Test]
    public void MemkeysShowsEachKeysMemoryUsage()
    {
        Do("SELECT", "0");
        Do("RPUSH", "cli:list", "a", "b", "c");
        Do("HSET", "cli:hash", "f", "v");
        Do("SET", "cli:string", new string('x', 200));
        Do("ZADD", "cli:zset", "1", "m");
        Do("SADD", "cli:set", "m1", "m2");
        string output = RedisCli(Server.Port, "--memkeys");
        foreach (var (type, key) in new[] { ("list", "cli:list"), ("hash", "cli:hash"), ("string", "cli:string"), ("zset", "cli:zset"), ("set", "cli:set") })
        {
            long usage = (long)Client.Call("MEMORY", "USAGE", key)!;
            Assert.That(usage, Is.GreaterThan(0), key);
            var match = Regex.Match(output, "Biggest +" + type + " found '\"?([^'\"]+)\"?' has ([0-9]+) bytes");
            Assert.That(match.Success, Is.True, output);
            Assert.That(long.Parse(match.Groups[2].Value), Is.GreaterThan(0), output);
        }
        Assert.That(output, Does.Not.Contain("has 0 bytes"));
    }

    [Test]
    public void RespThreeFromRedisCli()
    {
        Do("HSET", "cli3:h", "field", "value");
        // redis-cli prints a RESP3 map's pair on one line (a RESP2 array would take two).
        Assert.That(RedisCli(Server.Port, "-3", "HGETALL", "cli3:h"), Is.EqualTo("field value\n"));
        Assert.That(RedisCli(Server.Port, "HGETALL", "cli3:h"), Is.EqualTo("field\nvalue\n"));
        Assert.That(RedisCli(Server.Port, "-3", "CLIENT", "INFO"), Does.Contain(" resp=3"));
    }
}
