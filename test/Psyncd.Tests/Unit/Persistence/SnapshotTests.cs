using Psyncd.Execution;
using Psyncd.Persistence;
using Psyncd.Rdb;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Tests.Support;
using static Psyncd.Tests.Unit.Rdb.KeyspaceRdb;

namespace Psyncd.Tests.Unit.Persistence;

/// <summary>Background snapshots in-process: the RDB holds the state of the snapshot's instant while writes go on.</summary>
public class SnapshotTests
{
    [Test]
    public void BackgroundSnapshotKeepsTheStateOfItsInstantWhileWritesContinue()
    {
        using var keyspace = NewKeyspace();
        var loop = new CommandLoop();
        loop.AddEnterHook(keyspace.EnterLoop);
        loop.AddExitHook(keyspace.ExitLoop);
        const int count = 40_000;
        SortedDictionary<string, string> expected = null!;
        loop.Run(() =>
        {
            for (int i = 0; i < count; i++)
            {
                int db = i % 3;
                if (i % 10 == 0)
                {
                    var list = new ListObject();
                    list.PushRight(B("first-" + i));
                    keyspace.SetObject(db, B("key:" + i), list);
                }
                else
                {
                    keyspace.SetString(db, B("key:" + i), B("value-" + i + new string('x', i % 50)), i % 7 == 0 ? keyspace.NowMs + 3_600_000 : -1);
                }
            }
            expected = DatasetText.Read(keyspace);
        });

        RdbSnapshot snapshot = null!;
        loop.Run(() => snapshot = RdbSnapshot.Begin(loop, keyspace, new RdbHeader("7.0.15", 0, 0), compress: true));
        var output = new MemoryStream();
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                snapshot.StreamTo(output, checksum: true);
            }
            catch (Exception e)
            {
                failure = e;
            }
        });
        thread.Start();

        // Change every key while the snapshot streams: overwrite, delete, grow lists in place, add keys.
        int batchesDuringSnapshot = 0;
        for (int start = 0; start < count; start += 200)
        {
            loop.Run(() =>
            {
                if (keyspace.IsSnapshotRunning)
                    batchesDuringSnapshot++;
                for (int i = start; i < start + 200; i++)
                {
                    int db = i % 3;
                    var key = B("key:" + i);
                    if (i % 10 == 0)
                    {
                        var entry = keyspace.LookupWrite(db, key);
                        entry.As<ListObject>().PushRight("more"u8);
                        keyspace.Modified(db, key);
                    }
                    else if (i % 3 == 0)
                    {
                        keyspace.Delete(db, key);
                    }
                    else
                    {
                        keyspace.SetString(db, key, "changed"u8);
                    }
                    keyspace.SetString(db, B("new:" + i), "n"u8);
                }
            });
        }
        Assert.That(thread.Join(TimeSpan.FromSeconds(60)), Is.True);
        Assert.That(failure, Is.Null);
        Assert.That(batchesDuringSnapshot, Is.GreaterThan(0), "writes ran while the snapshot was being taken");

        using var reloaded = NewKeyspace();
        reloaded.EnterLoop();
        Load(reloaded, output.ToArray());
        var actual = DatasetText.Read(reloaded);
        reloaded.ExitLoop();
        Assert.That(actual.Count, Is.EqualTo(expected.Count));
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void WalkStepsStoppedEarlyResumeWhereTheyStoppedWhileKeysChangeBetweenThem()
    {
        // Walk steps end on a condition (a time budget, a thread waiting for the loop), not after a fixed
        // number of records: every step here is stopped at its first chance, and keys ahead of the cursor and
        // behind it change between steps. The RDB must still hold exactly the dataset of the snapshot's instant.
        using var keyspace = NewKeyspace();
        keyspace.EnterLoop();
        const int count = 12_000;
        for (int i = 0; i < count; i++)
        {
            int db = i % 3;
            if (i % 8 == 0)
            {
                var set = new SetObject();
                set.Add(B("m-" + i));
                keyspace.SetObject(db, B("key:" + i), set);
            }
            else
            {
                keyspace.SetString(db, B("key:" + i), B("value-" + i + new string('y', i % 40)), i % 5 == 0 ? keyspace.NowMs + 3_600_000 : -1);
            }
        }
        var expected = DatasetText.Read(keyspace);

        var stream = new MemoryStream();
        var output = new RdbOutput(stream);
        var writer = new RdbWriter(compress: true);
        writer.WriteHeader(new RdbHeader("7.0.15", 0, 0));
        keyspace.BeginSnapshot(new DirectRdbSink(writer, output));
        var random = new Random(1201);
        int steps = 0;
        while (!keyspace.ContinueSnapshot(int.MaxValue, stopEarly: () => true))
        {
            steps++;
            for (int j = 0; j < 3; j++)
            {
                int i = random.Next(count);
                int db = i % 3;
                var key = B("key:" + i);
                int action = random.Next(4);
                if (action == 0)
                {
                    keyspace.SetString(db, key, B("changed-" + steps));
                }
                else if (action == 1)
                {
                    keyspace.Delete(db, key);
                }
                else if (action == 2)
                {
                    // A set changed in place (no new record): preserved by the lookup for writing.
                    var entry = keyspace.LookupWrite(db, key);
                    if (entry.Is(ValueKind.Set))
                    {
                        entry.As<SetObject>().Add(B("added-" + steps));
                        keyspace.Modified(db, key);
                    }
                }
                else
                {
                    keyspace.SetString(db, B("new:" + steps + ":" + j), "n"u8);
                }
            }
        }
        writer.WriteEof();
        writer.FlushTo(output);
        output.WriteChecksum(true);
        keyspace.ExitLoop();
        Assert.That(steps, Is.GreaterThanOrEqualTo(count / Keyspace.RecordsBetweenStopChecks - 1), "each step stopped at its first check");

        using var reloaded = NewKeyspace();
        reloaded.EnterLoop();
        Load(reloaded, stream.ToArray());
        var actual = DatasetText.Read(reloaded);
        reloaded.ExitLoop();
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void RepeatedSnapshotsReuseTheirBuffers()
    {
        // Every BGSAVE and full sync runs a snapshot: once warm, one should not leave its buffers behind as garbage
        // (two of 64 KB each, plus the grown ones on the large object heap when a step's output passes 85,000
        // bytes, which used_memory counted until a full collection). A hash of 6,000 fields serializes to some
        // 100 KB in one go, so the writer's buffer grows past that threshold in every snapshot here.
        using var keyspace = NewKeyspace();
        var loop = new CommandLoop();
        loop.AddEnterHook(keyspace.EnterLoop);
        loop.AddExitHook(keyspace.ExitLoop);
        loop.Run(() =>
        {
            for (int i = 0; i < 300; i++)
                keyspace.SetString(i % 2, B("key:" + i), B("value-" + i + new string('z', i % 120)));
            var hash = new HashObject();
            for (int i = 0; i < 6000; i++)
                hash.Set(B("field:" + i), B("v" + i));
            keyspace.SetObject(0, B("big"), hash);
        });
        var output = new MemoryStream();
        var allocated = new List<long>();
        for (int pass = 0; pass < 10; pass++)
        {
            output.SetLength(0);
            long before = GC.GetAllocatedBytesForCurrentThread();
            RdbSnapshot snapshot = null!;
            loop.Run(() => snapshot = RdbSnapshot.Begin(loop, keyspace, new RdbHeader("7.0.15", 0, 0), compress: true));
            snapshot.StreamTo(output, checksum: true);
            long spent = GC.GetAllocatedBytesForCurrentThread() - before;
            // The first two warm the pool (and the runtime's code).
            if (pass >= 2)
                allocated.Add(spent);
        }
        Assert.That(output.Length, Is.GreaterThan(100_000));
        allocated.Sort();
        Assert.That(allocated[allocated.Count / 2], Is.LessThan(16 * 1024), "bytes allocated by a snapshot once warm (median of 8): " + string.Join(", ", allocated));
    }

    [Test]
    public void CancelledSnapshotFailsItsStreamAndFreesTheKeyspace()
    {
        using var keyspace = NewKeyspace();
        var loop = new CommandLoop();
        loop.AddEnterHook(keyspace.EnterLoop);
        loop.AddExitHook(keyspace.ExitLoop);
        loop.Run(() =>
        {
            for (int i = 0; i < 50_000; i++)
                keyspace.SetString(0, B("k" + i), "v"u8);
        });
        RdbSnapshot snapshot = null!;
        loop.Run(() =>
        {
            snapshot = RdbSnapshot.Begin(loop, keyspace, new RdbHeader("7.0.15", 0, 0), compress: true);
            snapshot.Cancel();
            Assert.That(keyspace.IsSnapshotRunning, Is.False);
        });
        Assert.Throws<OperationCanceledException>(() => snapshot.StreamTo(new MemoryStream(), checksum: true));
        loop.Run(() => Assert.DoesNotThrow(() => RdbSnapshot.Begin(loop, keyspace, new RdbHeader("7.0.15", 0, 0), compress: true).Cancel()));
    }

    [Test]
    public void FailingDestinationAbortsTheSnapshot()
    {
        using var keyspace = NewKeyspace();
        var loop = new CommandLoop();
        loop.AddEnterHook(keyspace.EnterLoop);
        loop.AddExitHook(keyspace.ExitLoop);
        loop.Run(() => keyspace.SetString(0, "k"u8, "v"u8));
        RdbSnapshot snapshot = null!;
        loop.Run(() => snapshot = RdbSnapshot.Begin(loop, keyspace, new RdbHeader("7.0.15", 0, 0), compress: true));
        Assert.Throws<NotSupportedException>(() => snapshot.StreamTo(new MemoryStream(new byte[4], writable: false), checksum: true));
        loop.Run(() => Assert.That(keyspace.IsSnapshotRunning, Is.False));
    }
}
