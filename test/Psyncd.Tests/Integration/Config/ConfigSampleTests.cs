using System.Text.RegularExpressions;
using Psyncd.Config;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Integration.Config;

/// <summary>redis.conf.sample documents every directive, with the defaults the code really uses.</summary>
public class ConfigSampleTests
{
    private static readonly string s_samplePath = Path.Combine(PsyncdBuild.RepoRoot, "redis.conf.sample");

    private static IEnumerable<(int Number, string Line)> ActiveLines()
    {
        var lines = File.ReadAllLines(s_samplePath);
        for (int i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length > 0 && line[0] != '#')
                yield return (i + 1, line);
        }
    }

    [Test]
    public void EveryDirectiveInTheSampleIsKnownToTheRegistry()
    {
        foreach (var (number, line) in ActiveLines())
        {
            var args = ConfigFileParser.SplitArgs(line);
            Assert.That(args, Is.Not.Null.And.Not.Empty, "line " + number);
            Assert.That(ConfigRegistry.Find(args![0]), Is.Not.Null, "line " + number + ": " + line);
        }
        // Commented-out examples ("# directive value") name known directives too.
        foreach (var line in File.ReadAllLines(s_samplePath))
        {
            var m = Regex.Match(line, @"^# ([a-z][a-z0-9-]+) (\S.*)$");
            if (!m.Success)
                continue;
            string name = m.Groups[1].Value;
            // Prose lines start with ordinary words; an example line starts with a directive-like name.
            bool looksLikeDirective = name.Contains('-') || ConfigRegistry.Find(name) is not null;
            if (looksLikeDirective)
                Assert.That(ConfigRegistry.Find(name) is not null || name == "include", Is.True, line);
        }
    }

    [Test]
    public void EveryRegistryDirectiveIsDocumentedInTheSample()
    {
        var text = File.ReadAllText(s_samplePath);
        foreach (var directive in ConfigRegistry.All)
        {
            bool present = Regex.IsMatch(text, @"^(# )?" + Regex.Escape(directive.Name) + @"( |$)", RegexOptions.Multiline);
            Assert.That(present, Is.True, directive.Name + " is missing from redis.conf.sample");
        }
    }

    [Test]
    public void EachDefaultInTheSampleEqualsTheCodeDefault()
    {
        var loaded = new ServerOptions();
        var parser = new ConfigFileParser(loaded);
        parser.LoadFile(s_samplePath);
        var defaults = new ServerOptions();
        Assert.That(loaded.IgnoredDirectives, Is.Empty, "the sample's active lines are all directives that take effect");
        foreach (var directive in ConfigRegistry.All)
        {
            Assert.That(string.Join("\n", ConfigRewriter.LinesFor(directive, loaded)),
                Is.EqualTo(string.Join("\n", ConfigRewriter.LinesFor(directive, defaults))),
                directive.Name + ": the sample's value differs from ServerOptions' default");
        }
    }

    [Test]
    public void TheSampleStartsAServer()
    {
        string dir = ServerProcess.NewDir();
        int port = FreePort.Next();
        using var server = ServerProcess.StartPsyncdIn(dir, port, "--store-log-memory", "64mb");
        using var client = server.Connect();
        Assert.That(client.Command("PING"), Is.EqualTo("+PONG\r\n"));
        // StartPsyncdIn passes only directives; start once more with the sample as the config file.
        using var withSample = ServerProcess.LaunchPsyncdRaw(dir, s_samplePath, "--port", FreePort.Next().ToString(), "--bind", "127.0.0.1",
            "--save", "", "--dir", dir, "--store-log-memory", "64mb");
        Eventually.True(() => withSample.Output.Contains("Ready to accept connections"), TimeSpan.FromSeconds(60), "the server started with the sample is ready:\n" + withSample.Output);
    }
}
