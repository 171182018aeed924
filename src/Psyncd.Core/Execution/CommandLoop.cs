using System.Diagnostics;
using Psyncd.Diagnostics;

namespace Psyncd.Execution;

/// <summary>
/// The command loop: the one place where commands execute, one at a time, in one total order. That order
/// is the order of the replication stream.
/// </summary>
/// <remarks>
/// <para>
/// Concurrency model. The loop is a critical section rather than a dedicated thread: whichever thread has
/// work (a connection's receive continuation with parsed requests, the cron, a snapshot slice) enters it,
/// runs its batch, and leaves. Everything that commands touch (the keyspace, the clients' state, their
/// output buffers, the replication stream and backlog) is only read or written inside the loop, so none of
/// it needs its own synchronization. I/O never happens while waiting inside: the loop only fills buffers,
/// and output is handed to the transport, whose sends complete on their own.
/// </para>
/// <para>
/// Why not a thread with a queue: on this two-core machine the hand-off to a loop thread (a wake-up per
/// batch) cost more than the uncontended lock, which the receiving thread takes while its data is still in
/// cache. Both keep the property that matters: one command at a time, in one order.
/// </para>
/// <para>
/// On leaving, the loop runs its "before sleep" work (Redis's beforeSleep): flushing every client that got
/// output during the batch, and whatever the subsystems registered with <see cref="AddExitHook"/>.
/// </para>
/// <para>
/// Group commit (<c>appendonly yes</c>). Each connection's read is its own batch, so committing the durable log at every
/// exit costs one write (and with <c>appendfsync always</c> one fsync) per client request. Instead, an exit that leaves
/// stream bytes unwritten keeps every output held and asks <see cref="RequestCommit"/> for a pass end: the event
/// loop (Network/EventLoop) runs <see cref="CommitPass"/> once it has served every connection it found ready in this
/// pass. That pass end writes (and syncs) once for all of them, then flushes their outputs, as redis-server's beforeSleep
/// does after one event-loop iteration. The replicas' outputs wait for the same pass end when the batches run on the
/// event loop's thread (<see cref="DeferToPassEnd"/>), and the replies with them (<see cref="DeferFlushes"/>).
/// </para>
/// </remarks>
public sealed class CommandLoop
{
    private readonly Lock _gate = new();
    private readonly List<Action> _enterHooks = new();
    private readonly List<Action> _exitHooks = new();

    // Clients with output written during the current batch, flushed when the batch ends.
    private readonly List<Client> _pendingFlush = new();

    /// <summary>Nesting depth of the current holder; only the outermost Exit runs the exit hooks.</summary>
    private int _depth;

    /// <summary>True once a pass end was asked for and has not run yet (one request covers every batch until then).</summary>
    private bool _commitRequested;

    /// <summary>True while <see cref="CommitPass"/> holds the loop: its exit commits instead of deferring again.</summary>
    private bool _committingPass;

    /// <summary>The log replies wait for (appendonly); null when no log is wired.</summary>
    public IDurableLog? DurableLog { get; set; }

    /// <summary>
    /// Asks for <see cref="CommitPass"/> to run once the event loop has served every connection it found ready (set by
    /// the root when the server starts). Null: each exit commits at once (a loop used without a server).
    /// </summary>
    public Action? RequestCommit { get; set; }

    /// <summary>True while output must not leave: stream bytes wait for the log's write.</summary>
    public bool OutputHeld => DurableLog is { HasUncommitted: true };

    /// <summary>True when the calling thread is inside the loop.</summary>
    public bool IsInside => _gate.IsHeldByCurrentThread;

    /// <summary>Registers work to run each time a thread enters (before anything else runs).</summary>
    public void AddEnterHook(Action hook) => _enterHooks.Add(hook);

    /// <summary>Registers work to run at the end of each batch, before output is flushed.</summary>
    public void AddExitHook(Action hook) => _exitHooks.Add(hook);

    /// <summary>Batches begun so far (read outside the loop: whether another thread got in since).</summary>
    public long Passes => Volatile.Read(ref _passes);

    private long _passes;

    /// <summary>Threads blocked at the loop's door now.</summary>
    private int _waiting;

    /// <summary>
    /// True while another thread waits to enter: long work inside (a snapshot's walk step) reads it to step aside
    /// at once rather than at the end of its time budget.
    /// </summary>
    public bool HasWaiters => Volatile.Read(ref _waiting) > 0;

    /// <summary>
    /// The latency monitor that hears of the event loop's waits at the door ("loop-wait") and of long work inside
    /// ("snapshot-step"); null without a server.
    /// </summary>
    public LatencyMonitor? Latency { get; set; }

    public void Enter()
    {
        // Counted only when the door is shut: the uncontended entry costs no more than the lock itself.
        if (!_gate.TryEnter())
        {
            long start = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _waiting);
            _gate.Enter();
            Interlocked.Decrement(ref _waiting);
            // Inside now. Only the event loop's wait is a client's: the snapshot's and the cron's threads wait too.
            if (Latency is { IsEnabled: true } latency && Thread.CurrentThread == PassThread)
                latency.AddSampleIfNeeded("loop-wait", (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        if (_depth++ == 0)
        {
            Volatile.Write(ref _passes, _passes + 1);
            foreach (var hook in _enterHooks)
                hook();
        }
    }

    /// <summary>
    /// Outside the loop: returns once a pass other than <paramref name="pass"/> has begun (another thread got in), or
    /// after <paramref name="timeout"/>. Long work that steps aside for a waiter calls it before entering again:
    /// the loop's lock is not fair, and a thread that leaves and re-enters at once takes it back before the woken
    /// waiter runs.
    /// </summary>
    public void WaitForAnotherPass(long pass, TimeSpan timeout)
    {
        Debug.Assert(!IsInside);
        long deadline = Stopwatch.GetTimestamp() + (long)(timeout.TotalSeconds * Stopwatch.Frequency);
        var spinner = new SpinWait();
        // Never Thread.Sleep(1): a millisecond is far more than the waiter's batch takes.
        while (Passes == pass && Stopwatch.GetTimestamp() < deadline)
            spinner.SpinOnce(sleep1Threshold: -1);
    }

    public void Exit()
    {
        Debug.Assert(_gate.IsHeldByCurrentThread, "Exit without Enter");
        try
        {
            if (_depth == 1)
            {
                AtPassEnd = _committingPass;
                _committingPass = false;
                foreach (var hook in _exitHooks)
                    hook();
                if (DurableLog is { HasUncommitted: true } log)
                {
                    if (RequestCommit is { } request && !AtPassEnd)
                    {
                        // Outputs stay in the pending list until the pass end commits.
                        AskPassEnd(request);
                        return;
                    }
                    log.Commit();
                }
                FlushPending();
            }
        }
        finally
        {
            if (_depth == 1)
                AtPassEnd = false;
            _depth--;
            _gate.Exit();
        }
    }

    /// <summary>
    /// The event loop's thread (set with <see cref="RequestCommit"/>): a batch that runs there is part of a pass, whose
    /// end comes without a wake-up (<see cref="DeferToPassEnd"/>).
    /// </summary>
    public Thread? PassThread { get; set; }

    /// <summary>True while the exit hooks of a pass end (<see cref="CommitPass"/>) run: work left for the pass end is done now.</summary>
    public bool AtPassEnd { get; private set; }

    /// <summary>
    /// Inside the loop, from an exit hook: when this batch runs on the event loop's thread, asks for the pass end and
    /// returns true (the caller leaves its work to it). False at the pass end itself, without an event loop, and on any
    /// other thread (the cron, a replica's link to its master, an unblocked client resumed on the thread pool): there
    /// the caller does its work at this exit, as waking the event loop for it would cost a wake-up and a second entry.
    /// </summary>
    public bool DeferToPassEnd()
    {
        Debug.Assert(IsInside);
        if (AtPassEnd || RequestCommit is not { } request || Thread.CurrentThread != PassThread)
            return false;
        PassFeedsReplicas?.Invoke();
        AskPassEnd(request);
        return true;
    }

    /// <summary>
    /// Told (on the event loop's thread) each time a batch leaves the replicas' sends to the pass end: the event loop then
    /// sleeps after the pass rather than polling for the next request (Network/EventLoop, docs/performance.md).
    /// </summary>
    public Action? PassFeedsReplicas { get; set; }

    /// <summary>One request covers every batch until the pass end runs.</summary>
    private void AskPassEnd(Action request)
    {
        if (_commitRequested)
            return;
        _commitRequested = true;
        request();
    }

    /// <summary>Enters, runs <paramref name="action"/>, and exits.</summary>
    public void Run(Action action)
    {
        Enter();
        try
        {
            action();
        }
        finally
        {
            Exit();
        }
    }

    /// <summary>
    /// The pass end of group commit (from the event loop, outside the command loop): one write, and one sync with
    /// <c>appendfsync always</c>, for every batch since the request, then every held output is flushed.
    /// </summary>
    public void CommitPass()
    {
        Enter();
        _commitRequested = false;
        _committingPass = true;
        Exit();
    }

    /// <summary>
    /// Inside the loop: commits what waits now, for output that must leave before the pass ends (a reply before the
    /// connection closes, a PSYNC reply before another thread writes to the socket).
    /// </summary>
    public void CommitNow()
    {
        Debug.Assert(IsInside);
        if (DurableLog is { HasUncommitted: true } log)
            log.Commit();
    }

    /// <summary>Marks <paramref name="client"/> as having output to flush at the end of the batch.</summary>
    public void ScheduleFlush(Client client)
    {
        Debug.Assert(IsInside);
        if (client.FlushScheduled)
            return;
        client.FlushScheduled = true;
        _pendingFlush.Add(client);
    }

    /// <summary>
    /// While set, the flushes the batches ask for wait, in order, until <see cref="ReleaseDeferredFlushes"/>: set by
    /// replication while stream bytes wait for the replicas' next flush, so that no client reads the reply to
    /// a write before the replicas were sent that write (a client may read from a replica next, as Redis's own
    /// tests do right after a write to the master).
    /// </summary>
    public bool DeferFlushes { get; set; }

    // Clients whose flush waits for the replicas' (DeferFlushes), oldest first; each keeps FlushScheduled.
    private readonly List<Client> _deferredFlush = new();

    /// <summary>
    /// Inside the loop: the waiting flushes are done when this batch's outputs are, before those it asked for, and
    /// <paramref name="first"/>'s before all of them (the replicas, before any reply that waited for them).
    /// </summary>
    public void ReleaseDeferredFlushes(List<Client> first)
    {
        Debug.Assert(IsInside);
        DeferFlushes = false;
        _pendingFlush.InsertRange(0, _deferredFlush);
        _deferredFlush.Clear();
        // A client listed twice is flushed twice; the second finds nothing to send.
        foreach (var client in first)
            client.FlushScheduled = true;
        _pendingFlush.InsertRange(0, first);
    }

    private void FlushPending()
    {
        if (DeferFlushes)
        {
            _deferredFlush.AddRange(_pendingFlush);
            _pendingFlush.Clear();
            return;
        }
        // A flush may schedule nothing new, but hooks above may have added clients: iterate by index.
        for (int i = 0; i < _pendingFlush.Count; i++)
        {
            var client = _pendingFlush[i];
            client.FlushScheduled = false;
            client.Output.Flush();
        }
        _pendingFlush.Clear();
    }

    /// <summary>Bytes handed to client transports (INFO's total_net_output_bytes); touched inside the loop only.</summary>
    public long OutputBytes { get; set; }
}
