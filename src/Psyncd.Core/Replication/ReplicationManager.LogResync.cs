using System.Text;
using Psyncd.Execution;
using Psyncd.Replication.Master;

namespace Psyncd.Replication;

/// <summary>
/// PSYNC from disk: a replica whose offset the RAM backlog no longer holds, but the durable log does, continues with
/// +CONTINUE; the missing part is read from the log's files on a thread of its own and sent straight to its socket,
/// while the live stream from that instant on waits in its held output (as after a full sync's payload).
/// </summary>
public sealed partial class ReplicationManager
{
    /// <summary>Inside the loop: true when the log serves <paramref name="offset"/> onwards (the reply is then under way).</summary>
    private bool TryPartialResyncFromLog(ReplicaLink link, long offset)
    {
        long last = Stream.MasterReplOffset;
        if (Aof is not { IsOn: true } aof || offset > last + 1)
            return false;
        // Everything up to `last` is written to the files first; from `last + 1` on the replica's output gets the
        // live stream, held until the files' part is sent: no byte is missing and none is sent twice.
        long count = last - offset + 1;
        if (!ReplayBeatsFullSync(link, count))
            return false;
        var read = aof.TryOpenRange(offset, last);
        if (read is null)
            return false;
        var output = AcceptPartialResync(link);
        output.Flush();
        output.Hold();
        Stream.AddListener(link);
        Stats.SyncPartialOk++;
        Log.Notice("Partial resynchronization request from " + link.Ip + ":" + link.ListeningPort + " accepted. Sending " + count +
                   " bytes of the replication log on disk starting from offset " + offset + ".");
        var thread = new Thread(() => SendFromLog(link, read, count)) { IsBackground = true, Name = "psyncd log resync" };
        thread.Start();
        UpdateGoodReplicas(Environment.TickCount64);
        return true;
    }

    /// <summary>
    /// Whether sending <paramref name="count"/> bytes of the log is the faster way back for the replica: at most
    /// <c>repl-log-max-replay-percentage</c> of the dataset's memory. Replaying about 2.5 times the dataset's size
    /// of commands takes as long as a full sync of that dataset (README's durable-log figures); a replica away longer is
    /// better served by the snapshot.
    /// </summary>
    private bool ReplayBeatsFullSync(ReplicaLink link, long count)
    {
        int percentage = Options.ReplLogMaxReplayPercentage;
        if (percentage == 0 || count <= Options.ReplBacklogSize)
            return true;
        // used_memory counts the records superseded in the store's log too, until compaction reclaims them: after
        // many overwrites they can be most of it, while a full sync sends only the live records.
        long dataset = Math.Max(0, Memory.UsedMemory() - Keyspace.GarbageBytes);
        if (count <= dataset / 100.0 * percentage)
            return true;
        Log.Notice("Partial resynchronization from the replication log on disk not chosen for replica " + link.Ip + ":" + link.ListeningPort +
                   ": the " + count + " bytes to send are more than " + percentage + "% of the dataset's " + dataset +
                   " bytes (repl-log-max-replay-percentage), a full sync is faster.");
        return false;
    }

    private void SendFromLog(ReplicaLink link, Func<Action<ReadOnlyMemory<byte>>, bool> read, long count)
    {
        var pipe = link.Client.Output.Pipe;
        bool ok = false;
        var started = Environment.TickCount64;
        try
        {
            if (pipe is not null)
            {
                link.KeepaliveFlush.GetAwaiter().GetResult();
                ok = read(chunk =>
                {
                    var result = pipe.WriteAsync(chunk).AsTask().GetAwaiter().GetResult();
                    if (result.IsCompleted || result.IsCanceled)
                        throw new IOException("the replica's connection is closed");
                });
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            Log.Warning("Error sending the replication log to replica " + link.Ip + ":" + link.ListeningPort + ": " + e.Message);
        }
        Loop.Enter();
        try
        {
            if (ok && LinkOf(link.Client) == link)
            {
                link.Client.Output.Release();
                Log.Notice("Sent " + count + " bytes of the replication log to replica " + link.Ip + ":" + link.ListeningPort + " in " +
                           (Environment.TickCount64 - started) + " ms; streaming goes on");
            }
            else
            {
                link.Client.CloseAsap();
            }
        }
        finally
        {
            Loop.Exit();
        }
    }
}
