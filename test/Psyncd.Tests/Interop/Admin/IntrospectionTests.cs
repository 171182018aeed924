using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Admin;

/// <summary>
/// COMMAND INFO, DOCS, LIST, GETKEYS and the HELP of every container command, beside a real redis-server:
/// for every command psyncd has, the structure is redis-server 7.0.15's (under RESP3, so maps and sets keep
/// their types), minus what psyncd leaves out on purpose (Redis's prose: summaries, complexity, history,
/// key spec notes; the subcommands psyncd lacks), and the summaries are psyncd's own.
/// </summary>
[Category("Interop")]
public class IntrospectionTests : DifferentialFixture
{
    private RawClient _p = null!;
    private RawClient _r = null!;
    private List<string> _commands = null!;

    /// <summary>DEBUG HELP needs DEBUG open.</summary>
    protected override string[] ServerArgs => ["--enable-debug-command", "yes"];

    [OneTimeSetUp]
    public void Connect()
    {
        _p = _psyncd.Connect();
        _r = _redis.Connect();
        _p.Command("HELLO", "3");
        _r.Command("HELLO", "3");
        _commands = RespTree.Parse(_p.Command("COMMAND")).Items.Select(entry => entry.Items[0].Text).ToList();
    }

    [OneTimeTearDown]
    public void Disconnect()
    {
        _p?.Dispose();
        _r?.Dispose();
    }

    /// <summary>The names of a command's subcommands psyncd has (from its own COMMAND INFO).</summary>
    private static HashSet<string> Subcommands(RespTree info)
        => info.Items[9].Items.Select(sub => sub.Items[0].Text).ToHashSet();

    [Test]
    public void CommandInfoOfEveryCommandIsRedisShape()
    {
        var failures = new List<string>();
        foreach (var name in _commands)
        {
            var mine = RespTree.Parse(_p.Command("COMMAND", "INFO", name)).Items[0];
            var theirs = RespTree.Parse(_r.Command("COMMAND", "INFO", name)).Items[0];
            if (theirs.Type == '_')
            {
                failures.Add(name + ": redis-server 7.0 has no such command");
                continue;
            }
            var keep = Subcommands(mine);
            // Redis's key spec notes are prose; its subcommands psyncd lacks are not listed.
            theirs = theirs.WithoutKeys(key => key == "notes");
            // Subcommands come in Redis's hash order: compared by name.
            if (theirs.Items[9].Type == '*')
                theirs.Items[9] = theirs.Items[9] with { Items = theirs.Items[9].Items.Where(sub => keep.Contains(sub.Items[0].Text)).OrderBy(sub => sub.Items[0].Text, StringComparer.Ordinal).ToList() };
            if (mine.Items[9].Type == '*')
                mine.Items[9] = mine.Items[9] with { Items = mine.Items[9].Items.OrderBy(sub => sub.Items[0].Text, StringComparer.Ordinal).ToList() };
            if (mine.Canonical() != theirs.Canonical())
                failures.Add(name + "\n  redis:  " + theirs.Canonical() + "\n  psyncd: " + mine.Canonical());
        }
        Assert.That(failures, Is.Empty, string.Join('\n', failures));
    }

    [Test]
    public void CommandDocsOfEveryCommandIsRedisStructureWithPsyncdsOwnSummaries()
    {
        var failures = new List<string>();
        foreach (var name in _commands)
        {
            var mine = RespTree.Parse(_p.Command("COMMAND", "DOCS", name));
            var theirs = RespTree.Parse(_r.Command("COMMAND", "DOCS", name));
            Assert.That(mine.Items, Has.Count.EqualTo(2), name);
            var myDocs = mine.Items[1];
            var theirDocs = theirs.Items[1];
            var summary = myDocs.Get("summary");
            if (summary is null || summary.Text.Length < 10)
                failures.Add(name + ": no summary (add it to scripts/command-summaries.txt and run scripts/command-data)");
            else if (summary.Text == theirDocs.Get("summary")?.Text)
                failures.Add(name + ": the summary is Redis's own text");
            var mySubs = myDocs.Get("subcommands");
            var keep = mySubs?.Items.Where((_, i) => i % 2 == 0).Select(k => k.Text).ToHashSet() ?? new HashSet<string>();
            if (mySubs is not null)
            {
                for (int i = 1; i < mySubs.Items.Count; i += 2)
                {
                    var subSummary = mySubs.Items[i].Get("summary")?.Text ?? "";
                    if (subSummary.Length < 10)
                        failures.Add(mySubs.Items[i - 1].Text + ": no summary");
                }
            }
            // Left out on purpose: Redis's prose (summaries, complexity, history) and the subcommands psyncd lacks.
            var prose = new HashSet<string> { "summary", "complexity", "history", "replaced_by" };
            theirDocs = theirDocs.WithoutKeys(prose.Contains);
            if (theirDocs.Get("subcommands") is { } theirSubs)
            {
                var kept = new List<RespTree>();
                for (int i = 0; i + 1 < theirSubs.Items.Count; i += 2)
                {
                    if (keep.Contains(theirSubs.Items[i].Text))
                        kept.AddRange(theirSubs.Items.GetRange(i, 2));
                }
                int at = theirDocs.Items.IndexOf(theirSubs);
                theirDocs.Items[at] = theirSubs with { Items = kept };
            }
            string a = theirDocs.Canonical(), b = myDocs.WithoutKeys(prose.Contains).Canonical();
            if (a != b)
                failures.Add(name + "\n  redis:  " + a + "\n  psyncd: " + b);
        }
        Assert.That(failures, Is.Empty, string.Join('\n', failures));
    }

    [Test]
    public void CommandDocsOfSeveralAndUnknownNames()
    {
        foreach (var c in new[] { _p, _r })
            Assert.That(c.Command("COMMAND", "DOCS", "nosuch"), Is.EqualTo("%0\r\n"));
        var mine = RespTree.Parse(_p.Command("COMMAND", "DOCS", "get", "nosuch", "config|get", "set"));
        Assert.That(mine.Items.Where((_, i) => i % 2 == 0).Select(k => k.Text), Is.EqualTo(new[] { "get", "config|get", "set" }));
        var all = RespTree.Parse(_p.Command("COMMAND", "DOCS"));
        Assert.That(all.Items.Count / 2, Is.EqualTo(_commands.Count));
    }

    [TestCase("COMMAND", "GETKEYS", "set", "a", "b")]
    [TestCase("COMMAND", "GETKEYS", "get")]
    [TestCase("COMMAND", "GETKEYS", "nosuch", "a")]
    [TestCase("COMMAND", "GETKEYS", "ping")]
    [TestCase("COMMAND", "GETKEYS", "set", "a")]
    [TestCase("COMMAND", "GETKEYS", "mset", "a", "1", "b")]
    [TestCase("COMMAND", "GETKEYS", "mset", "a", "1", "b", "2")]
    [TestCase("COMMAND", "GETKEYS", "blpop", "a", "b", "0")]
    [TestCase("COMMAND", "GETKEYS", "brpoplpush", "a", "b", "0")]
    [TestCase("COMMAND", "GETKEYS", "sort", "a", "by", "x", "store", "b")]
    [TestCase("COMMAND", "GETKEYS", "sort", "a", "store")]
    [TestCase("COMMAND", "GETKEYS", "sort", "a", "store", "b", "store", "c")]
    [TestCase("COMMAND", "GETKEYS", "sort", "a", "limit", "0", "1", "store", "b")]
    [TestCase("COMMAND", "GETKEYS", "sort", "a", "get", "store", "store", "b")]
    [TestCase("COMMAND", "GETKEYS", "zunionstore", "d", "2", "a", "b")]
    [TestCase("COMMAND", "GETKEYS", "zunionstore", "d", "3", "a", "b")]
    [TestCase("COMMAND", "GETKEYS", "zunionstore", "d", "0", "a")]
    [TestCase("COMMAND", "GETKEYS", "zinterstore", "d", "x", "a")]
    [TestCase("COMMAND", "GETKEYS", "config", "get")]
    [TestCase("COMMAND", "GETKEYS", "config|get", "x")]
    [TestCase("COMMAND", "GETKEYS", "client", "list")]
    [TestCase("COMMAND", "GETKEYS", "object", "encoding", "k")]
    [TestCase("COMMAND", "GETKEYS", "object", "nosuch", "k")]
    [TestCase("COMMAND", "GETKEYS", "memory", "usage", "k")]
    [TestCase("COMMAND", "GETKEYS", "del", "a", "b", "c")]
    [TestCase("COMMAND", "GETKEYS", "rename", "a", "b")]
    [TestCase("COMMAND", "GETKEYS", "pfmerge", "d", "a", "b")]
    [TestCase("COMMAND", "GETKEYS", "watch", "a", "b")]
    [TestCase("COMMAND", "GETKEYS", "smove", "a", "b", "m")]
    [TestCase("COMMAND", "GETKEYSANDFLAGS", "set", "a", "b")]
    [TestCase("COMMAND", "GETKEYSANDFLAGS", "set", "a", "b", "get")]
    [TestCase("COMMAND", "GETKEYSANDFLAGS", "set", "a", "b", "EX", "5", "GET")]
    [TestCase("COMMAND", "GETKEYSANDFLAGS", "lmove", "a", "b", "left", "left")]
    [TestCase("COMMAND", "GETKEYSANDFLAGS", "sort", "a", "store", "b")]
    [TestCase("COMMAND", "GETKEYSANDFLAGS", "blmove", "a", "b", "left", "left", "0")]
    [TestCase("COMMAND", "GETKEYSANDFLAGS", "zunionstore", "d", "2", "a", "b")]
    [TestCase("COMMAND", "GETKEYSANDFLAGS", "getset", "a", "b")]
    [TestCase("COMMAND", "GETKEYSANDFLAGS", "del", "a")]
    [TestCase("COMMAND", "COUNT", "x")]
    [TestCase("COMMAND", "FOO")]
    [TestCase("COMMAND", "INFO", "get", "nosuch", "config|get", "CONFIG|GET", "get|x", "config|nosuch")]
    [TestCase("COMMAND", "LIST", "x")]
    [TestCase("COMMAND", "LIST", "FILTERBY")]
    [TestCase("COMMAND", "LIST", "FILTERBY", "ACLCAT")]
    [TestCase("COMMAND", "LIST", "FILTERBY", "FOO", "x")]
    [TestCase("COMMAND", "LIST", "FILTERBY", "MODULE", "x")]
    [TestCase("COMMAND", "LIST", "FILTERBY", "PATTERN", "c*", "extra")]
    [TestCase("COMMAND", "LIST", "FILTERBY", "PATTERN", "nomatch*")]
    [TestCase("COMMAND", "LIST", "FILTERBY", "ACLCAT", "nosuch")]
    public void CommandSubcommandsMatchRedis(params string[] command)
    {
        Assert.That(RespTree.Parse(_p.Command(command)).Canonical(), Is.EqualTo(RespTree.Parse(_r.Command(command)).Canonical()));
    }

    /// <summary>COMMAND LIST, filtered or not, names what psyncd has of what redis-server names (in any order).</summary>
    [TestCase]
    [TestCase("FILTERBY", "PATTERN", "config*")]
    [TestCase("FILTERBY", "PATTERN", "*SET*")]
    [TestCase("FILTERBY", "ACLCAT", "hyperloglog")]
    [TestCase("FILTERBY", "ACLCAT", "CONNECTION")]
    [TestCase("FILTERBY", "ACLCAT", "write")]
    public void CommandListIsRedisListOfWhatPsyncdHas(params string[] filter)
    {
        var everything = RespTree.Parse(_p.Command("COMMAND", "LIST")).Items.Select(i => i.Text).ToHashSet();
        var mine = RespTree.Parse(_p.Command(["COMMAND", "LIST", .. filter])).Items.Select(i => i.Text).Order().ToList();
        var theirs = RespTree.Parse(_r.Command(["COMMAND", "LIST", .. filter])).Items.Select(i => i.Text).Where(everything.Contains).Order().ToList();
        Assert.That(mine, Is.EqualTo(theirs));
    }

    [Test]
    public void CommandAndCountAgree()
    {
        var all = RespTree.Parse(_p.Command("COMMAND"));
        Assert.That(_p.Command("COMMAND", "COUNT"), Is.EqualTo(":" + all.Items.Count + "\r\n"));
        Assert.That(all.Items.All(entry => entry.Items.Count == 10), Is.True, "7.0's ten fields");
        Assert.That(RespTree.Parse(_p.Command("COMMAND", "INFO")).Items, Has.Count.EqualTo(all.Items.Count));
    }

    /// <summary>Every container's HELP: status lines, the first and the last two as redis-server's, the rest psyncd's own words.</summary>
    [TestCase("COMMAND")]
    [TestCase("CONFIG")]
    [TestCase("CLIENT")]
    [TestCase("SLOWLOG")]
    [TestCase("OBJECT")]
    [TestCase("PUBSUB")]
    [TestCase("MEMORY")]
    [TestCase("LATENCY")]
    [TestCase("DEBUG")]
    [TestCase("SCRIPT")]
    public void HelpHasRedisShape(string container)
    {
        var mine = RespTree.Parse(_p.Command(container, "HELP"));
        var theirs = RespTree.Parse(_r.Command(container, "HELP"));
        Assert.That(mine.Items.Select(i => i.Type).Distinct(), Is.EqualTo(new[] { '+' }));
        Assert.That(mine.Items[0].Text, Is.EqualTo(theirs.Items[0].Text));
        Assert.That(mine.Items[^2..].Select(i => i.Text), Is.EqualTo(theirs.Items[^2..].Select(i => i.Text)));
        // Each subcommand psyncd describes is one Redis describes (a line at the margin; status lines keep their '+').
        static IEnumerable<string> Names(RespTree help)
            => help.Items.Skip(1).Select(i => i.Text[1..]).Where(line => !line.StartsWith(' ')).Select(line => line.Split(' ')[0]);
        var theirNames = Names(theirs).ToHashSet();
        theirNames.Add("FAIL-AFTER-SET"); // DEBUG's one subcommand of psyncd's own
        var myNames = Names(mine).Distinct().ToList();
        Assert.That(myNames, Is.SubsetOf(theirNames), container);
        Assert.That(myNames, Does.Contain("HELP"));
        Assert.That(myNames.Count, Is.GreaterThan(2), container + " HELP names its subcommands");
        // The descriptions (indented lines) are psyncd's: none is one of Redis's lines.
        var theirProse = theirs.Items.Select(i => i.Text).Where(line => line.StartsWith("+ ")).ToHashSet();
        var copied = mine.Items.SkipLast(1).Select(i => i.Text).Where(theirProse.Contains).ToList();
        Assert.That(copied, Is.Empty, container + " HELP in psyncd's own words");
    }

    [TestCase("MEMORY", "FOO")]
    [TestCase("MEMORY")]
    [TestCase("MEMORY", "USAGE")]
    [TestCase("MEMORY", "DOCTOR", "x")]
    [TestCase("MEMORY", "USAGE", "nokey")]
    [TestCase("MEMORY", "USAGE", "nokey", "SAMPLES")]
    [TestCase("MEMORY", "USAGE", "nokey", "SAMPLES", "-1")]
    [TestCase("MEMORY", "USAGE", "nokey", "SAMPLES", "x")]
    [TestCase("MEMORY", "USAGE", "nokey", "FOO", "1")]
    [TestCase("MEMORY", "PURGE")]
    [TestCase("LATENCY", "FOO")]
    [TestCase("LATENCY")]
    [TestCase("LATENCY", "HISTORY")]
    [TestCase("LATENCY", "GRAPH")]
    [TestCase("LATENCY", "GRAPH", "nosuch")]
    [TestCase("LATENCY", "HISTORY", "nosuch")]
    [TestCase("LATENCY", "RESET", "nosuch")]
    [TestCase("SLOWLOG", "HELP", "x")]
    [TestCase("COMMAND", "HELP", "x")]
    public void MemoryAndLatencyErrorsMatchRedis(params string[] command)
    {
        Assert.That(_p.Command(command), Is.EqualTo(_r.Command(command)));
    }
}
