using System.Text;
using Psyncd.Execution;

namespace Psyncd.Tests.Unit.Execution;

/// <summary>What a command leaves for the replication stream, and how it is written out (Redis 7's MULTI/EXEC rule).</summary>
public class PropagationListTests
{
    private const string Multi = "*1\r\n$5\r\nMULTI\r\n";
    private const string Exec = "*1\r\n$4\r\nEXEC\r\n";

    [Test]
    public void OneItemIsWrittenAsItIs()
    {
        var list = new PropagationList();
        var sink = new RecordingSink();
        list.AddDel(4, "k"u8);
        list.FlushTo(sink, wrap: true);
        Assert.That(sink.Appends, Is.EqualTo(new[] { "4 " + Del("k") }));
        Assert.That(list.Count, Is.EqualTo(0), "flushed items are forgotten");
    }

    [Test]
    public void SeveralItemsAreWrappedInMultiExecWithTheirOwnDatabases()
    {
        var list = new PropagationList();
        var sink = new RecordingSink();
        list.AddDel(1, "a"u8);
        list.AddEncoded(2, Encoding.ASCII.GetBytes(Del("b")));
        list.FlushTo(sink, wrap: true);
        Assert.That(sink.Appends, Is.EqualTo(new[] { "1 " + Multi, "1 " + Del("a"), "2 " + Del("b"), "current " + Exec }),
            "MULTI in the first item's database, EXEC wherever the stream is by then");
    }

    [Test]
    public void WithoutWrapSeveralItemsAreWrittenOneByOne()
    {
        var list = new PropagationList();
        var sink = new RecordingSink();
        list.AddDel(0, "a"u8);
        list.AddDel(0, "b"u8);
        list.FlushTo(sink, wrap: false);
        Assert.That(sink.Appends, Is.EqualTo(new[] { "0 " + Del("a"), "0 " + Del("b") }));
    }

    [Test]
    public void TruncateToForgetsExactlyWhatFollowedTheMark()
    {
        var list = new PropagationList();
        var sink = new RecordingSink();
        list.AddDel(0, "kept"u8);
        var mark = list.Mark();
        list.AddDel(0, "gone"u8);
        var w = list.Add(0, 2, replacesRequest: false);
        w.WriteBulk("DEL"u8);
        w.WriteBulk("gone-too"u8);
        list.TruncateTo(mark);
        Assert.That(list.Count, Is.EqualTo(1));
        list.AddDel(0, "after"u8);
        list.FlushTo(sink, wrap: false);
        Assert.That(sink.Appends, Is.EqualTo(new[] { "0 " + Del("kept"), "0 " + Del("after") }));
    }

    [Test]
    public void AnItemThatReplacesTheRequestSaysSoUntilTheNextCommand()
    {
        var list = new PropagationList();
        list.AddDel(0, "expired"u8);
        Assert.That(list.RequestReplaced, Is.False, "a DEL of an expired key is added beside the request");
        list.Add(0, 1, replacesRequest: true).WriteBulk("PING"u8);
        Assert.That(list.RequestReplaced, Is.True);
        list.BeginCommand();
        Assert.That(list.RequestReplaced, Is.False);
        Assert.That(list.Count, Is.EqualTo(2), "a new command of a transaction keeps the items of the earlier ones");
        list.ReplaceRequest();
        Assert.That(list.RequestReplaced, Is.True);
    }

    [Test]
    public void FlushingToAnInactiveSinkWritesNothingAndForgets()
    {
        var list = new PropagationList();
        var sink = new RecordingSink { IsActive = false };
        list.AddDel(0, "a"u8);
        list.AddDel(0, "b"u8);
        list.FlushTo(sink, wrap: true);
        Assert.That(sink.Appends, Is.Empty);
        Assert.That(list.Count, Is.EqualTo(0));
    }

    private static string Del(string key) => "*2\r\n$3\r\nDEL\r\n$" + key.Length + "\r\n" + key + "\r\n";

    private sealed class RecordingSink : IEffectsSink
    {
        public List<string> Appends { get; } = new();

        public bool IsActive { get; set; } = true;

        public long MasterReplOffset { get; private set; }

        public void Append(int db, ReadOnlySpan<byte> command) => Record(db.ToString(), command);

        public void AppendInCurrentDb(ReadOnlySpan<byte> command) => Record("current", command);

        private void Record(string where, ReadOnlySpan<byte> command)
        {
            Appends.Add(where + " " + Encoding.ASCII.GetString(command));
            MasterReplOffset += command.Length;
        }
    }
}
