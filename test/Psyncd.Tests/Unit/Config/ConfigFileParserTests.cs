using Psyncd.Config;

namespace Psyncd.Tests.Unit.Config;

/// <summary>The redis.conf parser: syntax, units, booleans, include, and redis-server's error report.</summary>
public class ConfigFileParserTests
{
    private static ServerOptions Load(string text)
    {
        var options = new ServerOptions();
        new ConfigFileParser(options).LoadText(text);
        return options;
    }

    private static ConfigFileException LoadFails(string text) => Assert.Throws<ConfigFileException>(() => Load(text))!;

    [Test]
    public void QuotedArgumentsKeepBlanksAndEscapes()
    {
        var options = Load("requirepass \"a b\\tc\"\nmasterauth 'it\\'s'\nlogfile \"\"\n");
        Assert.That(options.RequirePass, Is.EqualTo("a b\tc"));
        Assert.That(options.MasterAuth, Is.EqualTo("it's"));
        Assert.That(options.LogFile, Is.EqualTo(""));
        var single = Load("masterauth 'x y'\n");
        Assert.That(single.MasterAuth, Is.EqualTo("x y"));
    }

    [Test]
    public void CommentsBlankLinesAndCaseAreIgnored()
    {
        var options = Load("# a comment\n\n   \nPORT 7000\r\n  TimeOut 5\n");
        Assert.That(options.Port, Is.EqualTo(7000));
        Assert.That(options.Timeout, Is.EqualTo(5));
    }

    [TestCase("1k", 1000L)]
    [TestCase("1kb", 1024L)]
    [TestCase("512mb", 512L * 1024 * 1024)]
    [TestCase("2m", 2_000_000L)]
    [TestCase("1gb", 1024L * 1024 * 1024)]
    [TestCase("1G", 1_000_000_000L)]
    [TestCase("100", 100L)]
    [TestCase("3MB", 3L * 1024 * 1024)]
    public void MemoryUnitsAreRedisUnits(string text, long bytes)
    {
        Assert.That(Load("maxmemory " + text).MaxMemory, Is.EqualTo(bytes));
    }

    [Test]
    public void YesAndNoInAnyCase()
    {
        Assert.That(Load("slave-read-only NO").SlaveReadOnly, Is.False);
        Assert.That(Load("rdbcompression Yes").RdbCompression, Is.True);
        var e = LoadFails("rdbcompression maybe");
        Assert.That(e.Reason, Is.EqualTo("argument must be 'yes' or 'no'"));
    }

    [Test]
    public void SaveLinesReplaceTheDefaultsAndSaveEmptyDisables()
    {
        var options = Load("save 100 1\nsave 50 2\n");
        Assert.That(options.Save, Is.EqualTo(new[] { new SavePoint(100, 1), new SavePoint(50, 2) }));
        Assert.That(Load("save \"\"").Save, Is.Empty);
    }

    [Test]
    public void IncludeReadsAnotherFileRelativeToThisOne()
    {
        string dir = Path.Combine(Path.GetTempPath(), "psyncd-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        try
        {
            File.WriteAllText(Path.Combine(dir, "inc.conf"), "port 7100\nmaxclients 12\n");
            File.WriteAllText(Path.Combine(dir, "main.conf"), "port 7000\ninclude inc.conf\ntimeout 9\n");
            var options = new ServerOptions();
            new ConfigFileParser(options).LoadFile(Path.Combine(dir, "main.conf"));
            Assert.That(options.Port, Is.EqualTo(7100), "the include's later line wins");
            Assert.That(options.MaxClients, Is.EqualTo(12));
            Assert.That(options.Timeout, Is.EqualTo(9));
            Assert.That(options.ConfigFile, Is.EqualTo(Path.Combine(dir, "main.conf")));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    [Test]
    public void ErrorsNameTheLineAndTheReason()
    {
        var e = LoadFails("port 6379\n# comment\nnosuch-directive 1\n");
        Assert.That(e.LineNumber, Is.EqualTo(3));
        Assert.That(e.Line, Is.EqualTo("nosuch-directive 1"));
        Assert.That(e.Reason, Is.EqualTo("Bad directive or wrong number of arguments"));
        Assert.That(e.Report, Does.Contain("*** FATAL CONFIG FILE ERROR ***"));
        Assert.That(e.Report, Does.Contain("Reading the configuration file, at line 3"));
        Assert.That(e.Report, Does.Contain(">>> 'nosuch-directive 1'"));

        Assert.That(LoadFails("port 99999").Reason, Is.EqualTo("argument must be between 0 and 65535 inclusive"));
        Assert.That(LoadFails("maxmemory lots").Reason, Is.EqualTo("argument must be a memory value"));
        Assert.That(LoadFails("port").Reason, Is.EqualTo("Bad directive or wrong number of arguments"));
        Assert.That(LoadFails("requirepass \"open").Reason, Is.EqualTo("Unbalanced quotes in configuration line"));
        Assert.That(LoadFails("loglevel loud").LineNumber, Is.EqualTo(1));
    }

    [Test]
    public void CommandLineBecomesConfigurationText()
    {
        var text = ConfigFileParser.FromCommandLine(new[] { "--port", "7001", "--save", "", "--dir", "./data", "--bind", "127.0.0.1", "::1" });
        Assert.That(text.Split('\n').Select(l => l.Trim()), Is.EqualTo(new[] { "port \"7001\"", "save \"\"", "dir \"./data\"", "bind \"127.0.0.1\" \"::1\"" }));
    }
}
