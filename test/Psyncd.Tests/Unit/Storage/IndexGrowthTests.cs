using System.Text;
using Psyncd.Storage;

namespace Psyncd.Tests.Unit.Storage;

/// <summary>
/// FASTER's hash index starts at <c>store-index-size</c> and doubles as keys are added (four per bucket on
/// average), so that a server with few keys does not carry an index sized for millions (it is counted in
/// used_memory). Growth happens between operations of the loop: every key must stay readable, deletable and
/// visible to a snapshot that runs across it.
/// </summary>
public class IndexGrowthTests
{
    /// <summary>64 KB: 1024 buckets, grown at 4096 keys.</summary>
    private const long InitialIndex = 64L << 10;

    private static StoreSettings Settings => new(256L << 20, 1L << 20, InitialIndex);

    private static byte[] Key(int i) => Encoding.ASCII.GetBytes("key:" + i.ToString("D8"));

    private static byte[] Value(int i) => Encoding.ASCII.GetBytes("value-" + i);

    [Test]
    public void IndexDoublesAsKeysAreAddedAndEveryKeyStaysReadable()
    {
        using var keyspace = new Keyspace(Settings, 16);
        keyspace.EnterLoop();
        try
        {
            Assert.That(keyspace.IndexBytes, Is.EqualTo(InitialIndex));
            const int Keys = 40_000;
            for (int i = 0; i < Keys; i++)
                keyspace.SetString(i % 3, Key(i), Value(i));
            // 40,000 keys at four per bucket need 10,000 buckets: 1024 doubled four times is 16,384.
            Assert.That(keyspace.IndexBytes, Is.EqualTo(16_384L * 64));
            for (int i = 0; i < Keys; i++)
                Assert.That(keyspace.LookupRead(i % 3, Key(i)).String.ToArray(), Is.EqualTo(Value(i)), "key " + i);
            for (int i = 0; i < Keys; i += 2)
                Assert.That(keyspace.Delete(i % 3, Key(i)), Is.True, "delete " + i);
            for (int i = 0; i < Keys; i++)
                Assert.That(keyspace.LookupRead(i % 3, Key(i)).Exists, Is.EqualTo(i % 2 == 1), "key " + i);
            Assert.That(keyspace.KeyCount(0) + keyspace.KeyCount(1) + keyspace.KeyCount(2), Is.EqualTo(Keys / 2));

            keyspace.FlushAll();
            Assert.That(keyspace.IndexBytes, Is.EqualTo(InitialIndex), "a new store starts from the configured size");
            Assert.That(keyspace.LookupRead(1, Key(1)).Exists, Is.False);
        }
        finally
        {
            keyspace.ExitLoop();
        }
    }

    [Test]
    public void SnapshotRunningAcrossAGrowthWritesEveryKeyOnce()
    {
        using var keyspace = new Keyspace(Settings, 16);
        keyspace.EnterLoop();
        try
        {
            const int Before = 4_000;
            for (int i = 0; i < Before; i++)
                keyspace.SetString(0, Key(i), Value(i));
            var sink = new CollectingSink();
            keyspace.BeginSnapshot(sink);
            keyspace.ContinueSnapshot(1_000);
            // These new keys make the index double twice while the snapshot is half-way.
            for (int i = Before; i < 3 * Before; i++)
                keyspace.SetString(0, Key(i), Value(i));
            Assert.That(keyspace.IndexBytes, Is.GreaterThan(InitialIndex));
            while (!keyspace.ContinueSnapshot(1_000))
            {
            }
            Assert.That(sink.Keys, Has.Count.EqualTo(Before), "the snapshot holds the keys of its instant, each once");
            for (int i = 0; i < Before; i++)
                Assert.That(sink.Keys, Does.Contain("key:" + i.ToString("D8")));
        }
        finally
        {
            keyspace.ExitLoop();
        }
    }

    private sealed class CollectingSink : ISnapshotSink
    {
        public HashSet<string> Keys { get; } = new();

        public void Write(int db, ReadOnlySpan<byte> key, in Entry entry)
        {
            Assert.That(Keys.Add(Encoding.ASCII.GetString(key)), Is.True, "written twice");
        }
    }
}
