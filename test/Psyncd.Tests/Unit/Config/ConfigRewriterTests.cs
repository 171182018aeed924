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
}
