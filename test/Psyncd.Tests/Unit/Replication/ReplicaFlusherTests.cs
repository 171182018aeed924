using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Psyncd.Execution;
using Psyncd.Replication.Master;

namespace Psyncd.Tests.Unit.Replication;

/// <summary>
/// The replicas' flush at the event loop's pass end: stream bytes of every batch of a pass leave in one flush per
/// replica, and no reply leaves before the replicas were sent the writes before it.
/// </summary>
public class ReplicaFlusherTests
{
    private static readonly byte[] s_set = Encoding.ASCII.GetBytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");

    /// <summary>A loop with the flusher as its exit hook; every peer records, in one list, when its bytes arrive.</summary>
    private sealed class Rig
    {
        public readonly CommandLoop Loop = new();
        public readonly ReplicaFlusher Flusher;
        public readonly List<string> Arrivals = new();
        public int PassEndRequests;

        public Rig(bool eventLoop, bool onItsThread = true)
        {
            Flusher = new ReplicaFlusher(Loop);
            Loop.AddExitHook(Flusher.BeforeSleep);
            if (eventLoop)
            {
                Loop.RequestCommit = () => PassEndRequests++;
                Loop.PassThread = onItsThread ? Thread.CurrentThread : new Thread(() => { });
            }
        }

        public Peer Replica(string name)
        {
            var peer = Client(name);
            peer.Link = new ReplicaLink(peer.Client, Flusher);
            return peer;
        }

        public Peer Client(string name)
        {
            var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 1 << 20, resumeWriterThreshold: 1 << 19,
                readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false));
            var peer = new Peer(name, pipe, new Client(new ClientOutput(pipe.Writer, Loop), null, null), Arrivals);
            peer.Listen();
            return peer;
        }

        /// <summary>One connection's batch: a write the stream gives every replica, and the writer's reply.</summary>
        public void Write(Peer writer, params Peer[] replicas)
        {
            Loop.Run(() =>
            {
                foreach (var replica in replicas)
                    replica.Link!.OnStreamBytes(s_set);
                writer.Client.Output.WriteSimpleString("OK"u8);
                Loop.ScheduleFlush(writer.Client);
            });
        }
    }

    private sealed class Peer(string name, Pipe pipe, Client client, List<string> arrivals)
    {
        public Client Client { get; } = client;

        public ReplicaLink? Link { get; set; }

        public string Received { get; private set; } = "";

        /// <summary>Waits for bytes; the inline scheduler runs the continuation inside the flush that sends them.</summary>
        public void Listen()
        {
            var read = pipe.Reader.ReadAsync();
            if (read.IsCompleted)
            {
                Take(read.Result);
                return;
            }
            read.AsTask().ContinueWith(t => Take(t.Result), TaskContinuationOptions.ExecuteSynchronously);
        }

        private void Take(ReadResult result)
        {
            arrivals.Add(name);
            Received += Encoding.ASCII.GetString(result.Buffer.ToArray());
            pipe.Reader.AdvanceTo(result.Buffer.End);
            if (!result.IsCompleted)
                Listen();
        }
    }

    [Test]
    public void OnTheEventLoopsThreadEveryBatchOfAPassLeavesAtThePassEndReplicasFirst()
    {
        var rig = new Rig(eventLoop: true);
        var (r1, r2) = (rig.Replica("r1"), rig.Replica("r2"));
        var clients = Enumerable.Range(0, 4).Select(i => rig.Client("c" + i)).ToList();
        foreach (var client in clients)
            rig.Write(client, r1, r2);
        Assert.That(rig.Arrivals, Is.Empty, "nothing leaves before the pass end");
        Assert.That(rig.PassEndRequests, Is.EqualTo(1), "one pass end for the four batches");
        rig.Loop.CommitPass();
        Assert.That(rig.Arrivals, Is.EqualTo(new[] { "r1", "r2", "c0", "c1", "c2", "c3" }), "one send per replica, then the replies");
        Assert.That(r1.Received, Is.EqualTo(string.Concat(Enumerable.Repeat(Encoding.ASCII.GetString(s_set), 4))));
        Assert.That(r2.Received, Is.EqualTo(r1.Received));
        Assert.That(clients.Select(c => c.Received), Is.All.EqualTo("+OK\r\n"));
    }

    [Test]
    public void AReadsReplyInTheSamePassWaitsForTheReplicasToo()
    {
        var rig = new Rig(eventLoop: true);
        var replica = rig.Replica("replica");
        var (writer, reader) = (rig.Client("writer"), rig.Client("reader"));
        rig.Write(writer, replica);
        // The reader's GET may see the write: its reply must not reach it before the replica was sent the write.
        rig.Loop.Run(() =>
        {
            reader.Client.Output.WriteBulk("v"u8);
            rig.Loop.ScheduleFlush(reader.Client);
        });
        Assert.That(rig.Arrivals, Is.Empty);
        rig.Loop.CommitPass();
        Assert.That(rig.Arrivals, Is.EqualTo(new[] { "replica", "writer", "reader" }));
    }

    [Test]
    public void ABatchOfAnotherThreadFlushesAtItsOwnEnd()
    {
        // The cron, a replica's link to its master, an unblocked client: no pass end is asked for, nothing waits.
        var rig = new Rig(eventLoop: true, onItsThread: false);
        var replica = rig.Replica("replica");
        var writer = rig.Client("writer");
        rig.Write(writer, replica);
        Assert.That(rig.PassEndRequests, Is.Zero);
        Assert.That(rig.Arrivals, Is.EqualTo(new[] { "replica", "writer" }));
        rig.Write(writer, replica);
        Assert.That(rig.Arrivals, Is.EqualTo(new[] { "replica", "writer", "replica", "writer" }));
    }

    [Test]
    public void WithoutAnEventLoopEachBatchFlushesAtItsEnd()
    {
        var rig = new Rig(eventLoop: false);
        var (r1, r2) = (rig.Replica("r1"), rig.Replica("r2"));
        var writer = rig.Client("writer");
        rig.Write(writer, r1, r2);
        Assert.That(rig.Arrivals, Is.EqualTo(new[] { "r1", "r2", "writer" }));
    }

    [Test]
    public void ThePassEndAfterTheFlushDoesNotWaitAgain()
    {
        var rig = new Rig(eventLoop: true);
        var replica = rig.Replica("replica");
        var writer = rig.Client("writer");
        rig.Write(writer, replica);
        rig.Loop.CommitPass();
        // A later pass: a reply with no write before it leaves at its batch's end, and the next write waits again.
        rig.Loop.Run(() =>
        {
            writer.Client.Output.WriteSimpleString("PONG"u8);
            rig.Loop.ScheduleFlush(writer.Client);
        });
        Assert.That(rig.Arrivals, Is.EqualTo(new[] { "replica", "writer", "writer" }));
        rig.Write(writer, replica);
        Assert.That(rig.Arrivals, Has.Count.EqualTo(3));
        Assert.That(rig.PassEndRequests, Is.EqualTo(2));
        rig.Loop.CommitPass();
        Assert.That(rig.Arrivals, Is.EqualTo(new[] { "replica", "writer", "writer", "replica", "writer" }));
        Assert.That(writer.Received, Is.EqualTo("+OK\r\n+PONG\r\n+OK\r\n"));
    }
}
