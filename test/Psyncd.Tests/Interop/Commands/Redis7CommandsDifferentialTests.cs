using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Commands;

/// <summary>
/// The commands Redis 6.2 and 7.0 added for the types psyncd has, and 7.0's options of older ones: each script
/// runs on psyncd and on a real redis-server 7.0.15 (after FLUSHALL, in database 0), and every reply must be
/// the same bytes. Scripts hold only replies Redis specifies (no random picks, no hash field order).
/// </summary>
[Category("Interop")]
public class Redis7CommandsDifferentialTests
{
    private ServerProcess _psyncd = null!;
    private ServerProcess _redis = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _redis = ServerProcess.StartRedis();
        _psyncd = ServerProcess.StartPsyncd();
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _psyncd?.Dispose();
        _redis?.Dispose();
    }

    [TestCaseSource(nameof(Scripts))]
    public void RepliesMatchRedis(string script)
    {
        using var p = _psyncd.Connect();
        using var r = _redis.Connect();
        var lines = Redis7Scripts.Lines(script);
        foreach (var line in lines.Prepend("FLUSHALL"))
        {
            var args = Redis7Scripts.Split(line);
            var theirs = r.Command(args);
            var mine = p.Command(args);
            Assert.That(mine, Is.EqualTo(theirs), "after: " + line);
        }
    }

    private static IEnumerable<TestCaseData> Scripts() => Redis7Scripts.All.Select(s => new TestCaseData(s.Name).SetName("RepliesMatchRedis(" + s.Name + ")"));
}
