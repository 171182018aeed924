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
}
