using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Psyncd.Execution;

namespace Psyncd.Tests.Unit.Execution;

/// <summary>
/// Group commit (appendonly): batches of several connections share one write of the log at the pass end, and no
/// output leaves before the log's write that precedes it, however large a batch's replies grow.
/// </summary>
public class GroupCommitTests
{
    /// <summary>A log that records what the loop asks of it (a write per commit).</summary>
    private sealed class RecordingLog : IDurableLog
    {
        public int Pending;
        public int Commits;
        public Func<bool>? OnCommit;

        public bool HasUncommitted => Pending > 0;

        public void Commit()
        {
            OnCommit?.Invoke();
            Commits++;
            Pending = 0;
        }
    }

    [Test]
    public void BatchesOfManyClientsShareOneCommitAndTheirRepliesWaitForIt()
    {
        var loop = new CommandLoop();
        var log = new RecordingLog();
        int requests = 0;
        loop.DurableLog = log;
        loop.RequestCommit = () => requests++;
        var peers = Enumerable.Range(0, 5).Select(_ => NewClient(loop)).ToList();
        foreach (var (pipe, client) in peers)
        {
            // One connection's batch: a write (stream bytes for the log) and its reply.
            loop.Run(() =>
            {
                log.Pending++;
                client.Output.WriteSimpleString("OK"u8);
                loop.ScheduleFlush(client);
            });
            Assert.That(Sent(pipe), Is.False, "a reply waits for the log's write");
        }
        Assert.That((requests, log.Commits), Is.EqualTo((1, 0)), "one pass end asked for, nothing written yet");
        bool bytesOutBeforeCommit = false;
        log.OnCommit = () => bytesOutBeforeCommit = peers.Any(p => Sent(p.Pipe));
        loop.CommitPass();
        Assert.That(log.Commits, Is.EqualTo(1), "one write for the five batches");
        Assert.That(bytesOutBeforeCommit, Is.False);
        foreach (var (pipe, _) in peers)
            Assert.That(ReadAvailable(pipe), Is.EqualTo("+OK\r\n"), "every reply leaves at the pass end");
        loop.Run(() =>
        {
            log.Pending++;
            peers[0].Client.Output.WriteSimpleString("OK"u8);
            loop.ScheduleFlush(peers[0].Client);
        });
        Assert.That(requests, Is.EqualTo(2), "the next pass asks again");
    }

    [Test]
    public void AWriteLeftFromAnEarlierBatchHoldsAReadsReplyToo()
    {
        var loop = new CommandLoop();
        var log = new RecordingLog();
        loop.DurableLog = log;
        loop.RequestCommit = () => { };
        var (pipe, client) = NewClient(loop);
        loop.Run(() => log.Pending++);
        loop.Run(() =>
        {
            client.Output.WriteBulk("value"u8);
            loop.ScheduleFlush(client);
        });
        Assert.That(Sent(pipe), Is.False, "a reply may tell of the write: it leaves after it, as in redis-server's beforeSleep");
        loop.CommitPass();
        Assert.That(ReadAvailable(pipe), Is.EqualTo("$5\r\nvalue\r\n"));
    }

    [Test]
    public void ALargeBatchOfRepliesDoesNotLeaveBeforeTheLogsWrite()
    {
        var loop = new CommandLoop();
        var log = new RecordingLog();
        loop.DurableLog = log;
        loop.RequestCommit = () => { };
        var (pipe, client) = NewClient(loop);
        var expected = new StringBuilder();
        loop.Run(() =>
        {
            // A pipelined read of many writes: replies past the transport's threshold would be flushed mid-batch.
            for (int i = 0; i < 2000; i++)
            {
                log.Pending++;
                client.Output.WriteBulk("0123456789abcdef"u8);
                expected.Append("$16\r\n0123456789abcdef\r\n");
            }
            loop.ScheduleFlush(client);
        });
        Assert.That(expected.Length, Is.GreaterThan(2 * ClientOutput.TransportBufferBytes));
        Assert.That(Sent(pipe), Is.False, "nothing leaves before the log's write");
        loop.CommitPass();
        Assert.That(Read(pipe, expected.Length), Is.EqualTo(expected.ToString()), "everything, in order, after it");
    }

    [Test]
    public void AFlushBeforeTheConnectionClosesCommitsFirst()
    {
        var loop = new CommandLoop();
        var log = new RecordingLog();
        loop.DurableLog = log;
        loop.RequestCommit = () => { };
        var (pipe, client) = NewClient(loop);
        bool bytesOutBeforeCommit = true;
        log.OnCommit = () => bytesOutBeforeCommit = Sent(pipe);
        loop.Run(() =>
        {
            log.Pending++;
            client.Output.WriteSimpleString("OK"u8);
        });
        loop.Run(() => client.Output.Flush()); // QUIT's close: the reply must leave now
        Assert.That((log.Commits, bytesOutBeforeCommit), Is.EqualTo((1, false)));
        Assert.That(ReadAvailable(pipe), Is.EqualTo("+OK\r\n"));
    }

    [Test]
    public void WithoutPassEndsEachBatchCommitsAtItsEnd()
    {
        var loop = new CommandLoop();
        var log = new RecordingLog();
        loop.DurableLog = log;
        var (pipe, client) = NewClient(loop);
        for (int i = 0; i < 3; i++)
        {
            loop.Run(() =>
            {
                log.Pending++;
                client.Output.WriteSimpleString("OK"u8);
                loop.ScheduleFlush(client);
            });
            Assert.That(log.Commits, Is.EqualTo(i + 1));
            Assert.That(ReadAvailable(pipe), Is.EqualTo("+OK\r\n"));
        }
    }

    private static (Pipe Pipe, Client Client) NewClient(CommandLoop loop)
    {
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19,
            readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
        return (pipe, new Client(new ClientOutput(pipe.Writer, loop), null, null));
    }

    /// <summary>True when bytes reached the peer's side (left unread).</summary>
    private static bool Sent(Pipe pipe)
    {
        if (!pipe.Reader.TryRead(out var result))
            return false;
        pipe.Reader.AdvanceTo(result.Buffer.Start);
        return !result.Buffer.IsEmpty;
    }

    private static string ReadAvailable(Pipe pipe)
    {
        if (!pipe.Reader.TryRead(out var result))
            return "";
        string text = Encoding.ASCII.GetString(result.Buffer.ToArray());
        pipe.Reader.AdvanceTo(result.Buffer.End);
        return text;
    }

    private static string Read(Pipe pipe, int count)
    {
        var bytes = new List<byte>(count);
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (bytes.Count < count)
        {
            var result = pipe.Reader.ReadAsync(cancel.Token).AsTask().GetAwaiter().GetResult();
            long take = Math.Min(result.Buffer.Length, count - bytes.Count);
            bytes.AddRange(result.Buffer.Slice(0, take).ToArray());
            pipe.Reader.AdvanceTo(result.Buffer.GetPosition(take));
        }
        return Encoding.ASCII.GetString(bytes.ToArray());
    }
}
