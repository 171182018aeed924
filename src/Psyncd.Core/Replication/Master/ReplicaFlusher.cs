using System.Diagnostics;
using System.Runtime.InteropServices;
using Psyncd.Execution;

namespace Psyncd.Replication.Master;

/// <summary>
/// Sends the stream to the replicas' sockets once per <see cref="WindowMicroseconds"/> rather than at the end of
/// every loop pass: the bytes wait in each replica's output until a pass ends a window after the first of them,
/// or until a thread of its own sees the loop idle (no pass for 25 microseconds) and flushes them.
/// </summary>
/// <remarks>
/// <para>
/// Why: the loop is entered once per client read (one SET of a <c>-P 1</c> client), and flushing every replica at
/// each exit made one send() per replica per SET on the master, and one receive and one loop pass per SET on each
/// replica: with two replicas, 2.6 send() calls per SET on the master where redis-server makes 1.06, since its
/// event loop writes to the replicas once per epoll round (beforeSleep), after all the clients the round
/// reported. psyncd's loop has no round (every connection's receive enters it on its own), so a round is a time
/// window instead. Under load the passes end every few microseconds and the one that ends past the window
/// flushes; a pass that ends more than 30 us after the previous one flushes at once (nothing to batch: one
/// writer alone), and when no pass began for 25 us (every client waits for its reply) the flusher's thread
/// flushes. A fixed 200 us wait made one writer 3 to 5 times slower than before.
/// </para>
/// <para>
/// Two designs measured before this one queued a thread-pool item per burst (its pool threads spinning for work,
/// and the item contending for the loop's lock, made 100 times more sched_yield calls than sends saved).
/// The order of the bytes is the output's; only the moment of the flush moves. Flushes happen in the loop's exit
/// hooks after the durable log's buffer (<c>appendfsync always</c> syncs before the replicas see a byte, as in
/// Redis's beforeSleep).
/// </para>
/// </remarks>
internal sealed class ReplicaFlusher
{
    /// <summary>How long stream bytes may wait for the replicas' flush: the lag this adds, at most.</summary>
    public const int WindowMicroseconds = 200;

    private static readonly long s_windowTicks = Stopwatch.Frequency * WindowMicroseconds / 1_000_000;

    /// <summary>Passes that give replicas bytes further apart than this are flushed at once (30 us).</summary>
    private static readonly long s_sparseTicks = Stopwatch.Frequency * 30 / 1_000_000;

    /// <summary>When the last pass that gave replicas bytes ended.</summary>
    private long _lastPassTicks;

    private readonly CommandLoop _loop;
    private readonly List<ReplicaLink> _dirty = new();
    private readonly List<Client> _first = new();
    /// <summary>Set when a pass arms the thread; no spinning before it blocks (a spinning wait made sched_yield calls by the ten thousand).</summary>
    private readonly ManualResetEventSlim _wake = new(false, spinCount: 0);
    private Thread? _thread;

    /// <summary>When the oldest unflushed byte was appended (Stopwatch ticks).</summary>
    private long _firstDirtyTicks;

    /// <summary>Outputs waiting (written inside the loop; read outside by the thread as a hint).</summary>
    private int _dirtyCount;

    /// <summary>1 while the thread watches a burst (it was woken and has not gone back to sleep).</summary>
    private int _armed;

    public ReplicaFlusher(CommandLoop loop)
    {
        _loop = loop;
    }

    /// <summary>Inside the loop: <paramref name="link"/>'s output got stream bytes; it is flushed within the window.</summary>
    public void Add(ReplicaLink link)
    {
        if (link.FlushQueued)
            return;
        link.FlushQueued = true;
        if (_dirty.Count == 0)
        {
            Volatile.Write(ref _firstDirtyTicks, Stopwatch.GetTimestamp());
            // Every reply waits for the replicas' flush from here on (see CommandLoop.DeferFlushes).
            _loop.DeferFlushes = true;
        }
        _dirty.Add(link);
        Volatile.Write(ref _dirtyCount, _dirty.Count);
    }

    /// <summary>Inside the loop, at the end of a pass: flushes once the window is over, else makes sure the thread watches.</summary>
    public void BeforeSleep()
    {
        if (_dirty.Count == 0)
            return;
        long now = Stopwatch.GetTimestamp();
        long sinceLastPass = now - _lastPassTicks;
        _lastPassTicks = now;
        // Passes far apart (one writer at a time): nothing to batch, so no reason to wait.
        if (sinceLastPass >= s_sparseTicks || now - _firstDirtyTicks >= s_windowTicks)
        {
            FlushNow();
            return;
        }
        if (Interlocked.CompareExchange(ref _armed, 1, 0) == 0)
        {
            _thread ??= StartThread();
            _wake.Set();
        }
    }

    /// <summary>Inside the loop: flushes the outputs that got bytes, and lets the replies that waited for them go.</summary>
    private void FlushNow()
    {
        // The replicas first, then the replies that waited, when the pass ends (after the log's commit when the
        // log holds uncommitted bytes: appendfsync always syncs before a replica or a client sees them).
        _first.Clear();
        foreach (var link in _dirty)
        {
            link.FlushQueued = false;
            _first.Add(link.Client);
        }
        _loop.ReleaseDeferredFlushes(_first);
        _dirty.Clear();
        Volatile.Write(ref _dirtyCount, 0);
    }

    private Thread StartThread()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "psyncd replica flush" };
        thread.Start();
        return thread;
    }

    private void Run()
    {
        // Sleeps of tens of microseconds: the default timer slack (50 us) would double them.
        _ = prctl(PrSetTimerSlack, 1, 0, 0, 0);
        while (true)
        {
            _wake.Wait();
            _wake.Reset(); // only a pass that arms the thread again sets it, after the disarm below
            while (true)
            {
                // Idle means no pass began for IdleMicroseconds: every client is waiting for a reply that waits
                // for this flush (one client writing alone), or nobody is there; then flush at once. While passes
                // go on, the one that ends past the window flushes; look again a little later.
                long passes = _loop.Passes;
                usleep(IdleMicroseconds);
                bool idle = _loop.Passes == passes;
                if (!idle)
                    usleep(BusyRecheckMicroseconds);
                if ((idle || Stopwatch.GetTimestamp() - Volatile.Read(ref _firstDirtyTicks) >= s_windowTicks) && _loop.TryEnter())
                {
                    try
                    {
                        if (_dirty.Count > 0)
                            FlushNow();
                    }
                    finally
                    {
                        _loop.Exit();
                    }
                }
                // Sleep again only when nothing waits: a pass that adds bytes after this either sees the thread
                // disarmed (and wakes it) or was seen here (and the thread goes on watching).
                Interlocked.Exchange(ref _armed, 0);
                if (Volatile.Read(ref _dirtyCount) == 0 || Interlocked.CompareExchange(ref _armed, 1, 0) != 0)
                    break;
            }
        }
    }

    /// <summary>No pass for this long: the loop is idle, the waiting bytes and replies go now.</summary>
    private const int IdleMicroseconds = 25;

    /// <summary>While passes go on, how long the thread leaves them to flush by the window before it looks again.</summary>
    private const int BusyRecheckMicroseconds = 50;

    private const int PrSetTimerSlack = 29;

    [DllImport("libc")]
    private static extern int prctl(int option, ulong arg2, ulong arg3, ulong arg4, ulong arg5);

    [DllImport("libc")]
    private static extern int usleep(uint microseconds);
}
