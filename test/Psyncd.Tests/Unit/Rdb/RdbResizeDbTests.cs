using Psyncd.Rdb;
using Psyncd.Storage;
using static Psyncd.Tests.Unit.Rdb.KeyspaceRdb;

namespace Psyncd.Tests.Unit.Rdb;

/// <summary>
/// RESIZEDB: psyncd's snapshots write each database's key count first, and a load grows the hash index once for the
/// keys announced, before they arrive (each doubling during a load of 1M keys split every bucket again).
/// </summary>
public class RdbResizeDbTests
{
    /// <summary>An index of 64 buckets: it must grow past 256 keys.</summary>
    private static Keyspace TinyIndexKeyspace() => new(new StoreSettings(64L << 20, 1L << 20, 64 * 64), 16);

    private static void Fill(Keyspace keyspace, int db, int keys, string prefix)
    {
        for (int i = 0; i < keys; i++)
            keyspace.SetString(db, B(prefix + i), "v"u8, expireAt: i % 10 == 0 ? 4_000_000_000_000 : -1);
    }

    /// <summary>Loads <paramref name="rdb"/> and returns the index's size when the first 1,024 keys were in.</summary>
    private static long IndexBytesAfterFirstKeys(Keyspace target, byte[] rdb)
    {
        long early = -1;
        var reader = new RdbReader(new MemoryStream(rdb, writable: false));
        reader.Load(target, target.NowMs, dropExpired: true, pause: () =>
        {
            if (early < 0)
                early = target.IndexBytes;
        });
        return early;
    }

    [Test]
    public void ASnapshotAnnouncesEachDatabaseSoTheLoadGrowsTheIndexFirst()
    {
        using var source = TinyIndexKeyspace();
        source.EnterLoop();
        Fill(source, 0, 3000, "a:");
        Fill(source, 5, 2000, "b:");
        var rdb = Save(source);
        source.ExitLoop();

        using var target = TinyIndexKeyspace();
        target.EnterLoop();
        long initial = target.IndexBytes;
        long early = IndexBytesAfterFirstKeys(target, rdb);
        Assert.Multiple(() =>
        {
            Assert.That(target.KeyCount(0) + target.KeyCount(5), Is.EqualTo(5000));
            Assert.That(target.ExpiresCount(0) + target.ExpiresCount(5), Is.EqualTo(500));
            Assert.That(early, Is.GreaterThan(initial), "grown before the keys came");
            Assert.That(early, Is.EqualTo(target.IndexBytes), "no doubling while they came");
            Assert.That(target.IndexBytes, Is.EqualTo(source.IndexBytes), "as large as the keys' arrival made the source's");
        });
        target.ExitLoop();
    }

    [Test]
    public void ARedisStyleResizeDbBeforeEachDatabaseCountsOnlyTheKeysToCome()
    {
        var w = new RdbWriter(compress: false);
        w.WriteRaw("REDIS0011"u8);
        for (int db = 0; db < 2; db++)
        {
            w.WriteByte(RdbConstants.OpSelectDb);
            w.WriteLength((ulong)db);
            w.WriteByte(RdbConstants.OpResizeDb);
            w.WriteLength(3000);
            w.WriteLength(0);
            for (int i = 0; i < 3000; i++)
            {
                w.WriteByte(RdbConstants.TypeString);
                w.WriteString(B("k" + i));
                w.WriteString("v"u8);
            }
        }
        w.WriteEof();
        var rdb = w.Written.ToArray().Concat(new byte[8]).ToArray();

        using var target = TinyIndexKeyspace();
        target.EnterLoop();
        long early = IndexBytesAfterFirstKeys(target, rdb);
        Assert.Multiple(() =>
        {
            Assert.That(target.KeyCount(0) + target.KeyCount(1), Is.EqualTo(6000));
            // 3,000 keys need 1,024 buckets of 4 (64 KB); the second database's 3,000 more, 2,048.
            Assert.That(early, Is.EqualTo(1024 * 64));
            Assert.That(target.IndexBytes, Is.EqualTo(2048 * 64));
        });
        target.ExitLoop();
    }

    [Test]
    public void ACountTheFileCannotHoldDoesNotGrowTheIndex()
    {
        var w = new RdbWriter(compress: false);
        w.WriteRaw("REDIS0011"u8);
        w.WriteByte(RdbConstants.OpSelectDb);
        w.WriteLength(0);
        w.WriteByte(RdbConstants.OpResizeDb);
        w.WriteLength(1UL << 40);
        w.WriteLength(1UL << 40);
        w.WriteByte(RdbConstants.TypeString);
        w.WriteString("k"u8);
        w.WriteString("v"u8);
        w.WriteEof();
        var rdb = w.Written.ToArray().Concat(new byte[8]).ToArray();

        using var target = TinyIndexKeyspace();
        target.EnterLoop();
        long initial = target.IndexBytes;
        Load(target, rdb);
        Assert.Multiple(() =>
        {
            Assert.That(target.KeyCount(0), Is.EqualTo(1));
            Assert.That(target.IndexBytes, Is.EqualTo(initial));
        });
        target.ExitLoop();
    }
}
