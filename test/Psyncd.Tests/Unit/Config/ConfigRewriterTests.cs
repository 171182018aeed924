using Psyncd.Config;

namespace Psyncd.Tests.Unit.Config;

/// <summary>CONFIG REWRITE's text: comments and unknown lines kept, directives updated, new ones appended.</summary>
public class ConfigRewriterTests
{
    [Test]
    public void KeepsCommentsUpdatesDirectivesAndAppendsChangedOnes()
    {
        var lines = new[]
        {
            "# my server",
            "port 7000",
            "",
            "# limits",
            "maxmemory 100mb",
            "appendfsync everysec",
            "save 900 1",
            "save 300 10",
        };
        var options = new ServerOptions();
        new ConfigFileParser(options).LoadText(string.Join("\n", lines));
        options.MaxMemory = 1024;
        options.Timeout = 30;
        options.Save.Clear();
        options.Save.Add(new SavePoint(60, 5));
        var text = ConfigRewriter.RewriteText(lines, options);
        Assert.That(text.Split('\n'), Is.EqualTo(new[]
        {
            "# my server",
            "port 7000",
            "",
            "# limits",
            "maxmemory 1024",
            "appendfsync everysec",
            "save 60 5",
            "",
            ConfigRewriter.Marker,
            "timeout 30",
            "",
        }));
    }

    [Test]
    public void RewritingTwiceChangesNothing()
    {
        var options = new ServerOptions { Timeout = 5, RequirePass = "with space" };
        var once = ConfigRewriter.RewriteText(new[] { "# x", "port 6380" }, options);
        var twice = ConfigRewriter.RewriteText(once.TrimEnd('\n').Split('\n'), options);
        Assert.That(twice, Is.EqualTo(once));
        Assert.That(once, Does.Contain("requirepass \"with space\""));
        var reloaded = new ServerOptions();
        new ConfigFileParser(reloaded).LoadText(once);
        Assert.That(reloaded.RequirePass, Is.EqualTo("with space"));
        Assert.That(reloaded.Timeout, Is.EqualTo(5));
    }

    /// <summary>
    /// A rewritten file names each directive as redis-server 7.0 writes it (its replica-, -listpack- and
    /// busy-reply-threshold spellings), also where the file used the old name: checked against redis-server
    /// 7.0.15's own CONFIG REWRITE of the same settings.
    /// </summary>
    [Test]
    public void WritesRedis7NamesForRenamedDirectives()
    {
        var lines = new[] { "port 7000", "slave-read-only no", "hash-max-ziplist-entries 64" };
        var options = new ServerOptions();
        new ConfigFileParser(options).LoadText(string.Join("\n", lines));
        new ConfigFileParser(options).LoadText("slaveof 127.0.0.1 9\nslave-priority 50\nmin-slaves-to-write 1\nlua-time-limit 100\nzset-max-ziplist-value 32");
        var text = ConfigRewriter.RewriteText(lines, options);
        Assert.That(text.Split('\n'), Is.SupersetOf(new[]
        {
            "replica-read-only no", "hash-max-listpack-entries 64", "replicaof 127.0.0.1 9", "replica-priority 50",
            "min-replicas-to-write 1", "busy-reply-threshold 100", "zset-max-listpack-value 32",
        }));
        Assert.That(text, Does.Not.Contain("slave").And.Not.Contain("ziplist").And.Not.Contain("lua-time-limit"));
        var reloaded = new ServerOptions();
        new ConfigFileParser(reloaded).LoadText(text);
        Assert.That(reloaded.SlavePriority, Is.EqualTo(50));
        Assert.That(reloaded.SlaveReadOnly, Is.False);
    }
}
