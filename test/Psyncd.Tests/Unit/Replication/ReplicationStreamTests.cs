using System.Text;
using Psyncd.Replication;

namespace Psyncd.Tests.Unit.Replication;

/// <summary>The stream every executed write is appended to: SELECTs, offsets, and where the bytes go.</summary>
public class ReplicationStreamTests
{
    private static readonly byte[] s_set = Encoding.ASCII.GetBytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
    private static readonly byte[] s_ping = Encoding.ASCII.GetBytes("*1\r\n$4\r\nPING\r\n");

    [Test]
    public void AStreamWithNoBacklogAndNoReplicaRecordsNothing()
    {
        var stream = new ReplicationStream();
        Assert.That(stream.IsActive, Is.False);
        stream.Append(0, s_set);
        stream.AppendInCurrentDb(s_ping);
        Assert.That(stream.MasterReplOffset, Is.EqualTo(0));
        Assert.That(stream.StreamDb, Is.EqualTo(-1), "no SELECT was written, so the next command still needs one");
    }

    [Test]
    public void ASelectPrecedesTheFirstCommandAndEveryChangeOfDatabase()
    {
        var (stream, listener) = NewStream();
        stream.Append(0, s_set);
        stream.Append(0, s_set);
        stream.Append(3, s_set);
        stream.AppendInCurrentDb(s_ping);
        string expected = Select(0) + Text(s_set) + Text(s_set) + Select(3) + Text(s_set) + Text(s_ping);
        Assert.That(listener.Text, Is.EqualTo(expected));
        Assert.That(stream.StreamDb, Is.EqualTo(3));
    }

    [Test]
    public void AppendingInTheCurrentDatabaseNeverSelects()
    {
        var (stream, listener) = NewStream();
        stream.AppendInCurrentDb(s_ping);
        Assert.That(listener.Text, Is.EqualTo(Text(s_ping)));
    }

    [Test]
    public void ResetStreamDbForcesTheNextSelect()
    {
        var (stream, listener) = NewStream();
        stream.Append(5, s_set);
        stream.ResetStreamDb();
        stream.Append(5, s_set);
        Assert.That(listener.Text, Is.EqualTo(Select(5) + Text(s_set) + Select(5) + Text(s_set)));
    }

    [Test]
    public void TheOffsetGrowsByExactlyWhatTheBacklogAndEveryListenerSaw()
    {
        var (stream, listener) = NewStream();
        var second = new RecordingListener();
        stream.AddListener(second);
        stream.Backlog = new ReplicationBacklog(16 * 1024, 1);
        stream.Append(2, s_set);
        stream.AppendInCurrentDb(s_ping);
        stream.AppendVerbatim(s_set);
        long expected = Encoding.ASCII.GetByteCount(Select(2)) + s_set.Length + s_ping.Length + s_set.Length;
        Assert.That(stream.MasterReplOffset, Is.EqualTo(expected));
        Assert.That(listener.Bytes, Has.Count.EqualTo(expected));
        Assert.That(second.Bytes, Is.EqualTo(listener.Bytes));
        var held = new List<byte>();
        stream.Backlog.CopyFrom(1, chunk => held.AddRange(chunk.ToArray()));
        Assert.That(held, Is.EqualTo(listener.Bytes));
        Assert.That(stream.Backlog.NextOffset, Is.EqualTo(stream.MasterReplOffset + 1), "the backlog's next byte follows the stream's last");
    }

    [Test]
    public void VerbatimBytesPassUnchangedWithoutASelect()
    {
        var (stream, listener) = NewStream();
        byte[] half = s_set[..7];
        stream.AppendVerbatim(half);
        Assert.That(listener.Bytes, Is.EqualTo(half), "a replica forwards its master's bytes as they came, even a command cut in two");
    }

    [Test]
    public void ARemovedListenerGetsNothingMore()
    {
        var (stream, listener) = NewStream();
        stream.Append(0, s_set);
        stream.RemoveListener(listener);
        Assert.That(stream.IsActive, Is.False);
        stream.Append(0, s_set);
        Assert.That(listener.Text, Is.EqualTo(Select(0) + Text(s_set)));
    }

    private static (ReplicationStream, RecordingListener) NewStream()
    {
        var stream = new ReplicationStream();
        var listener = new RecordingListener();
        stream.AddListener(listener);
        return (stream, listener);
    }

    private static string Select(int db) => "*2\r\n$6\r\nSELECT\r\n$" + db.ToString().Length + "\r\n" + db + "\r\n";

    private static string Text(byte[] bytes) => Encoding.ASCII.GetString(bytes);

    private sealed class RecordingListener : IStreamListener
    {
        public List<byte> Bytes { get; } = new();

        public string Text => Encoding.ASCII.GetString(Bytes.ToArray());

        public void OnStreamBytes(ReadOnlySpan<byte> bytes) => Bytes.AddRange(bytes.ToArray());
    }
}
