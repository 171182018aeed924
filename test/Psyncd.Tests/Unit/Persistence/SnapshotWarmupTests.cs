using Psyncd.Persistence;

namespace Psyncd.Tests.Unit.Persistence;

/// <summary>The startup warm-up runs a whole snapshot and its load: every key of the scratch keyspace comes back.</summary>
public class SnapshotWarmupTests
{
    [TestCase(true)]
    [TestCase(false)]
    public void TheWarmupSnapshotLoadsBackEveryKey(bool compress)
    {
        Assert.That(SnapshotWarmup.Run(compress, rethrow: true, rounds: 1), Is.EqualTo(14), "4 strings and 5 collections of each of 2 sizes");
    }

    /// <summary>The BGSAVE command's methods the warm-up compiles ahead are found (a renamed one would fail here, not silently).</summary>
    [Test]
    public void EveryBgsaveMethodIsFoundAndCompiles()
    {
        var methods = RdbPersistence.BgsaveMethods();
        Assert.That(methods, Has.Count.EqualTo(7).And.All.Not.Null);
        Assert.That(methods.Select(m => m.Name), Is.Unique);
        Assert.DoesNotThrow(() => SnapshotWarmup.Prepare(methods));
    }
}
