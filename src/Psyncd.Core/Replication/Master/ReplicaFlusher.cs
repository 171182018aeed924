using Psyncd.Execution;

namespace Psyncd.Replication.Master;

/// <summary>
/// Sends the stream to the replicas' sockets once per pass of the event loop (after every connection the pass found
/// ready, as redis-server writes to its replicas in beforeSleep) rather than at the end of each connection's batch;
/// every reply of the pass waits for that flush.
/// </summary>
/// <remarks>
/// <para>
/// Why: each connection's read is a batch of its own (one SET of a <c>-P 1</c> client), and flushing every replica at
/// each batch's end made one send() per replica per SET on the master, and one receive and one loop pass per SET on
/// each replica. A batch run on the event loop's thread leaves the flush to the pass end
/// (<see cref="CommandLoop.DeferToPassEnd"/>), which comes without a wake-up. A batch of any other thread (the cron,
/// a replica's link to its master feeding its own replicas, an unblocked client resumed on the thread pool) flushes
/// at its own end: waking the event loop for it would cost more than the send it saves.
/// </para>
/// <para>
/// Replies wait (<see cref="CommandLoop.DeferFlushes"/>): no client reads the reply to a write before the replicas
/// were sent that write (a client may read from a replica next, as Redis's own tests do right after a write to the
/// master). The order of the bytes is each output's; only the moment of the flush moves. Flushes happen in the
/// loop's exit hooks after the durable log's buffer (<c>appendfsync always</c> syncs before the replicas see a
/// byte, as in Redis's beforeSleep).
/// </para>
/// <para>
/// Before the event loop had passes, this flushed once 200 us after the oldest unflushed byte, with a thread of its
/// own that polled the loop every 25-50 us while bytes waited (docs/performance.md, "Replication").
/// </para>
/// </remarks>
internal sealed class ReplicaFlusher
{
    private readonly CommandLoop _loop;
    private readonly List<ReplicaLink> _dirty = new();
    private readonly List<Client> _first = new();

    public ReplicaFlusher(CommandLoop loop)
    {
        _loop = loop;
    }

    /// <summary>Inside the loop: <paramref name="link"/>'s output got stream bytes; it is flushed at the pass end.</summary>
    public void Add(ReplicaLink link)
    {
        if (link.FlushQueued)
            return;
        link.FlushQueued = true;
        if (_dirty.Count == 0)
        {
            // Every reply waits for the replicas' flush from here on.
            _loop.DeferFlushes = true;
        }
        _dirty.Add(link);
    }

    /// <summary>Inside the loop, at the end of a batch: flushes now, unless the pass end of the event loop will.</summary>
    public void BeforeSleep()
    {
        if (_dirty.Count == 0 || _loop.DeferToPassEnd())
            return;
        // The replicas first, then the replies that waited, when the batch ends (after the log's commit when the
        // log holds uncommitted bytes: appendfsync always syncs before a replica or a client sees them).
        _first.Clear();
        foreach (var link in _dirty)
        {
            link.FlushQueued = false;
            _first.Add(link.Client);
        }
        _loop.ReleaseDeferredFlushes(_first);
        _dirty.Clear();
    }
}
