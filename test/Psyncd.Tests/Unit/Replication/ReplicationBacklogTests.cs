using Psyncd.Replication;

namespace Psyncd.Tests.Unit.Replication;

/// <summary>The backlog PSYNC serves partial resynchronizations from: which offsets it holds, and their bytes.</summary>
public class ReplicationBacklogTests
{
    private const int Size = 16 * 1024; // the smallest backlog (smaller sizes are raised to it)

    [Test]
    public void ANewBacklogIsEmptyAtItsNextOffset()
    {
        var backlog = new ReplicationBacklog(Size, 101);
        Assert.That(backlog.FirstByteOffset, Is.EqualTo(101));
        Assert.That(backlog.HistoryLength, Is.EqualTo(0));
        Assert.That(backlog.NextOffset, Is.EqualTo(101));
        Assert.That(backlog.Covers(101), Is.True, "a replica in step asks for the next byte");
        Assert.That(backlog.Covers(100), Is.False);
        Assert.That(backlog.Covers(102), Is.False);
        Assert.That(Copy(backlog, 101), Is.Empty);
    }

    [Test]
    public void BytesBelowTheSizeAreAllKeptAndServedFromAnyOffsetTheyHold()
    {
        var backlog = new ReplicationBacklog(Size, 1);
        var data = Bytes(1000, seed: 1);
        backlog.Append(data.AsSpan(0, 600));
        backlog.Append(data.AsSpan(600));
        Assert.That(backlog.HistoryLength, Is.EqualTo(1000));
        Assert.That(backlog.FirstByteOffset, Is.EqualTo(1));
        Assert.That(backlog.NextOffset, Is.EqualTo(1001));
        Assert.That(Copy(backlog, 1), Is.EqualTo(data));
        Assert.That(Copy(backlog, 501), Is.EqualTo(data[500..]), "offset o is the (o - first)th byte held");
        Assert.That(Copy(backlog, 1001), Is.Empty);
        Assert.That(backlog.Covers(1002), Is.False, "beyond the stream");
        Assert.That(() => Copy(backlog, 0), Throws.InstanceOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void AfterWrappingOnlyTheNewestSizeBytesAreHeld()
    {
        var backlog = new ReplicationBacklog(Size, 1);
        var data = Bytes(Size * 2 + 123, seed: 2);
        for (int i = 0; i < data.Length; i += 1000)
            backlog.Append(data.AsSpan(i, Math.Min(1000, data.Length - i)));
        Assert.That(backlog.HistoryLength, Is.EqualTo(Size));
        Assert.That(backlog.NextOffset, Is.EqualTo(1 + data.Length));
        Assert.That(backlog.FirstByteOffset, Is.EqualTo(backlog.NextOffset - Size));
        Assert.That(backlog.Covers(backlog.FirstByteOffset - 1), Is.False, "the overwritten history is gone");
        Assert.That(Copy(backlog, backlog.FirstByteOffset), Is.EqualTo(data[^Size..]), "the oldest byte held is the right one, and the rest in order");
    }

    [Test]
    public void OneAppendLargerThanTheBacklogKeepsItsLastBytes()
    {
        var backlog = new ReplicationBacklog(Size, 1);
        backlog.Append(Bytes(100, seed: 3));
        var large = Bytes(Size + 500, seed: 4);
        backlog.Append(large);
        Assert.That(backlog.HistoryLength, Is.EqualTo(Size));
        Assert.That(backlog.NextOffset, Is.EqualTo(1 + 100 + large.Length));
        Assert.That(Copy(backlog, backlog.FirstByteOffset), Is.EqualTo(large[^Size..]));
    }

    [Test]
    public void ResizingKeepsTheNewestHistoryThatFits()
    {
        var data = Bytes(Size * 3, seed: 5);
        var backlog = new ReplicationBacklog(Size * 4, 1);
        backlog.Append(data);
        backlog.Resize(Size);
        Assert.That(backlog.Size, Is.EqualTo(Size));
        Assert.That(backlog.HistoryLength, Is.EqualTo(Size));
        Assert.That(backlog.NextOffset, Is.EqualTo(1 + data.Length), "resizing never moves the stream's offset");
        Assert.That(Copy(backlog, backlog.FirstByteOffset), Is.EqualTo(data[^Size..]));

        backlog.Resize(Size * 8);
        Assert.That(backlog.HistoryLength, Is.EqualTo(Size), "growing keeps everything held");
        Assert.That(Copy(backlog, backlog.FirstByteOffset), Is.EqualTo(data[^Size..]));
        var more = Bytes(Size * 2, seed: 6);
        backlog.Append(more);
        Assert.That(backlog.HistoryLength, Is.EqualTo(Size * 3), "and the larger buffer fills up");
        Assert.That(Copy(backlog, backlog.FirstByteOffset), Is.EqualTo(data[^Size..].Concat(more).ToArray()));
    }

    private static byte[] Copy(ReplicationBacklog backlog, long offset)
    {
        var bytes = new List<byte>();
        backlog.CopyFrom(offset, chunk => bytes.AddRange(chunk.ToArray()));
        return bytes.ToArray();
    }

    private static byte[] Bytes(int count, int seed)
    {
        var bytes = new byte[count];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
