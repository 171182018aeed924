using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Psyncd.Execution;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Unit.Execution;

/// <summary>
/// A client's output over a real pipe (as the transport gives it): bytes in order, the overflow while the peer
/// does not read, holding a replica's stream, dropping, and taking back a reply not sent yet.
/// </summary>
public class ClientOutputTests
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(10);

    [Test]
    public void WrittenBytesReachThePeerAtFlushInOrder()
    {
        var (loop, pipe, output) = NewOutput();
        loop.Run(() =>
        {
            output.WriteSimpleString("OK"u8);
            output.WriteBulk("hello"u8);
            Assert.That(pipe.Reader.TryRead(out _), Is.False, "nothing is sent before the flush");
            output.Flush();
        });
        Assert.That(Read(pipe, 16), Is.EqualTo("+OK\r\n$5\r\nhello\r\n"));
    }

    [Test]
    public void WhatThePeerDoesNotReadWaitsInTheOverflowCountedAndDrainsInOrder()
    {
        var (loop, pipe, output) = NewOutput();
        var expected = new StringBuilder();
        long unsent = 0;
        loop.Run(() =>
        {
            for (int i = 0; i < 2000; i++)
            {
                string item = "item-" + i + new string('x', 50);
                output.WriteBulk(Encoding.ASCII.GetBytes(item));
                expected.Append('$').Append(item.Length).Append("\r\n").Append(item).Append("\r\n");
                if (i % 100 == 0)
                    output.Flush();
            }
            output.Flush();
            unsent = output.UnsentBytes;
            Assert.That(output.PendingBytes, Is.GreaterThan(0), "the pipe is full: later bytes wait in the overflow");
        });
        Assert.That(unsent, Is.GreaterThan(expected.Length - 2 * ClientOutput.TransportBufferBytes).And.LessThanOrEqualTo(expected.Length),
            "nothing has been read: about everything is unsent");
        Assert.That(Read(pipe, expected.Length), Is.EqualTo(expected.ToString()), "the peer reads everything, in order");
        bool empty = false;
        Assert.That(Eventually.Within(() => { loop.Run(() => empty = output.IsEmpty); return empty; }, s_timeout), Is.True, "the overflow drained");
    }

    [Test]
    public void HeldOutputWaitsUntilReleased()
    {
        var (loop, pipe, output) = NewOutput();
        loop.Run(() =>
        {
            output.WriteSimpleString("before"u8);
            output.Flush(); // as a master does with +FULLRESYNC before it holds the replica's stream
            output.Hold();
            output.WriteSimpleString("held"u8);
            output.Flush();
        });
        Assert.That(Read(pipe, 9), Is.EqualTo("+before\r\n"), "what preceded the hold is sent");
        Assert.That(pipe.Reader.TryRead(out _), Is.False, "what followed it waits");
        loop.Run(output.Release);
        Assert.That(Read(pipe, 7), Is.EqualTo("+held\r\n"));
    }

    [Test]
    public void DiscardDropsWhatWaitsAndEverythingWrittenLater()
    {
        var (loop, pipe, output) = NewOutput();
        loop.Run(() =>
        {
            output.WriteSimpleString("dropped"u8);
            output.Discard();
            output.WriteBulk(new byte[100_000]);
            output.Flush();
            Assert.That(output.IsDiscarding, Is.True);
            Assert.That(output.UnsentBytes, Is.EqualTo(0));
        });
        Assert.That(pipe.Reader.TryRead(out _), Is.False);
    }

    [Test]
    public void APartialReplyNotSentYetCanBeTakenBackButNotOnceSent()
    {
        var (loop, pipe, output) = NewOutput();
        loop.Run(() =>
        {
            output.WriteSimpleString("kept"u8);
            long mark = output.BytesWritten;
            output.WriteArrayHeader(2);
            output.WriteBulk("half"u8);
            Assert.That(output.TryRewind(mark), Is.True);
            Assert.That(output.BytesWritten, Is.EqualTo(mark));
            output.Flush();
            Assert.That(output.TryRewind(mark - 1), Is.False, "sent bytes cannot be taken back");
            long before = output.BytesWritten;
            output.WriteSimpleString("next"u8);
            Assert.That(output.BytesWritten, Is.EqualTo(before + 7), "BytesWritten counts every byte once");
            output.Flush();
        });
        Assert.That(Read(pipe, 14), Is.EqualTo("+kept\r\n+next\r\n"), "the rewound half reply was never sent");
    }

    private static (CommandLoop, Pipe, ClientOutput) NewOutput()
    {
        var loop = new CommandLoop();
        // A small pipe, as the transport's (its pause threshold is the output's TransportBufferBytes).
        var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: ClientOutput.TransportBufferBytes, resumeWriterThreshold: ClientOutput.TransportBufferBytes / 2,
            readerScheduler: PipeScheduler.ThreadPool, writerScheduler: PipeScheduler.ThreadPool, useSynchronizationContext: false));
        return (loop, pipe, new ClientOutput(pipe.Writer, loop));
    }

    /// <summary>Reads exactly <paramref name="count"/> bytes from the peer's side, within the timeout.</summary>
    private static string Read(Pipe pipe, int count)
    {
        var bytes = new List<byte>(count);
        using var cancel = new CancellationTokenSource(s_timeout);
        while (bytes.Count < count)
        {
            var result = pipe.Reader.ReadAsync(cancel.Token).AsTask().GetAwaiter().GetResult();
            var buffer = result.Buffer;
            long take = Math.Min(buffer.Length, count - bytes.Count);
            bytes.AddRange(buffer.Slice(0, take).ToArray());
            pipe.Reader.AdvanceTo(buffer.GetPosition(take));
        }
        return Encoding.ASCII.GetString(bytes.ToArray());
    }
}
