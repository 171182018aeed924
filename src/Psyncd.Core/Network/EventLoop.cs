using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Psyncd.Config;
using Psyncd.Diagnostics;

namespace Psyncd.Network;

/// <summary>Something the event loop watches: a listening socket or a client connection.</summary>
internal interface IEventHandler
{
    /// <summary>Called on the event loop's thread with the epoll events reported for the handler's descriptor.</summary>
    void OnEvents(int events);
}

/// <summary>
/// The server's own I/O loop, as redis-server's ae: one thread waits in epoll for every listening socket and
/// client connection, and on each readable descriptor reads once and runs what arrived, in the order the
/// kernel reported the descriptors.
/// </summary>
/// <remarks>
/// Why not .NET's socket engine (through Kestrel's transport, used before): it reads speculatively. After each
/// receive it tries the next one at once, and with a client waiting for its reply that try fails (EAGAIN), so
/// each single request took two recv calls where Redis takes one, and the continuation chain from the socket
/// through two pipes to the command loop cost as much again in managed code (docs/performance.md has the
/// profile). Here a descriptor is read only when epoll says it is readable, and replies are written with one
/// send when the loop's batch ends (<see cref="SocketWriter"/>); EPOLLOUT is asked for only while a client
/// does not take its replies.
/// Handlers are registered, and their slots freed, only on the loop's own thread (other threads
/// <see cref="Post"/> the work), so that an event read in a batch never reaches a handler that replaced the
/// one it was for.
/// </remarks>
internal sealed unsafe class EventLoop
{
    private const int MaxEvents = 256;
    private const long WakeToken = -1;

    /// <summary>
    /// After a pass that read a client's request, the loop polls (epoll_wait without a timeout) for up to
    /// <c>event-loop-poll-us</c> before it blocks; never with a single core, which has nobody to hand a poll's time to.
    /// </summary>
    /// <remarks>
    /// Why poll (docs/performance.md, "The event loop polls before it sleeps"): under redis-benchmark the single-threaded
    /// client is what limits the rate on two cores, and a client's send to a server asleep in epoll_wait pays for the
    /// wake-up, a cross-CPU interrupt that costs a virtual machine dearly; polling briefly made such sleeps 30-50 times
    /// rarer and the client's rate up to redis-server's, for the server's own CPU.
    /// Why not after every pass ("Polling only where it pays"): a poll ends the next pass at the first request that
    /// arrives, so after a pass that sent the stream to replicas the next sends would carry a request or two each
    /// instead of all that arrived while the loop slept, and wake every replica as often, on cores the master and its
    /// clients need: with two replicas the master's rate fell to 0.80x redis-server's and each replica spent 1.4x its CPU
    /// per write. After such a pass, and after a replica's pass that only applied its master's stream (the master waits
    /// for nothing), the loop sleeps at once.
    /// </remarks>
    private static readonly bool MayEverPoll = Environment.ProcessorCount > 1;

    private readonly ServerOptions _options;
    private readonly ServerStats _stats;

    private readonly int _epoll;
    private readonly int _wake;
    private readonly ServerLog _log;
    private readonly ConcurrentQueue<Action> _posted = new();
    private IEventHandler?[] _handlers = new IEventHandler?[64];
    private readonly Stack<int> _freeSlots = new();
    private readonly List<int> _releasedSlots = new();
    private readonly Thread _thread;
    private int _registered;
    private volatile bool _stopWhenIdle;
    private bool _stopped;

    /// <summary>This pass read a request from a client, who now waits for the reply (<see cref="ClientWaits"/>).</summary>
    private bool _clientWaits;

    /// <summary>This pass sends to replicas at its end (<see cref="SleepAfterPass"/>).</summary>
    private bool _sleepAfterPass;

    /// <summary>Where each readable connection's bytes are received first (pinned: recv writes into it directly).</summary>
    public byte[] ReadBuffer { get; } = GC.AllocateArray<byte>(ReadBufferSize, pinned: true);

    /// <summary>
    /// Bytes one recv may take: as much as a pipelined batch of many requests, so that a bulk load (redis-cli
    /// --pipe) takes few calls. Partial requests are copied out of it (<see cref="ClientConnection"/>).
    /// </summary>
    public const int ReadBufferSize = 64 * 1024;

    public EventLoop(ServerLog log, ServerOptions options, ServerStats stats)
    {
        _log = log;
        _options = options;
        _stats = stats;
        _epoll = Native.EpollCreate(Native.EfdCloexec);
        if (_epoll < 0)
            throw new IOException("epoll_create1 failed: errno " + Marshal.GetLastPInvokeError());
        _wake = Native.EventFd(0, Native.EfdNonBlock | Native.EfdCloexec);
        if (_wake < 0)
            throw new IOException("eventfd failed: errno " + Marshal.GetLastPInvokeError());
        Native.Control(_epoll, Native.EpollCtlAdd, _wake, Native.EpollIn, WakeToken);
        _thread = new Thread(Run) { IsBackground = true, Name = "psyncd io" };
        _thread.Start();
    }

    /// <summary>True when the calling thread is the loop's.</summary>
    public bool IsLoopThread => Thread.CurrentThread == _thread;

    /// <summary>The loop's thread.</summary>
    public Thread LoopThread => _thread;

    /// <summary>The epoll descriptor (connections change their own interest in it).</summary>
    public int Epoll => _epoll;

    /// <summary>
    /// Runs <paramref name="action"/> on the loop's thread once it has handled every event of its current pass (the
    /// pass end, Redis's beforeSleep): at once after them when called from a handler, else after waking the thread.
    /// </summary>
    public void Post(Action action)
    {
        _posted.Enqueue(action);
        if (IsLoopThread)
            return;
        long one = 1;
        Native.Write(_wake, (byte*)&one, sizeof(long));
    }

    /// <summary>
    /// Called on the loop's thread when this pass sends to replicas at its end (the command loop's
    /// <c>PassFeedsReplicas</c>): the loop then sleeps instead of polling, so that its next pass gathers every client that
    /// arrived meanwhile and the replicas get one send (and one wake-up) for all of them (docs/performance.md, "Polling
    /// only where it pays").
    /// </summary>
    public void SleepAfterPass() => _sleepAfterPass = true;

    /// <summary>
    /// Called on the loop's thread by a connection that read a client's request in this pass: the client waits for its
    /// reply, and its next request is what a poll would catch before the loop sleeps. A replica's link to its master
    /// does not call it: the master does not wait on the replica.
    /// </summary>
    public void ClientWaits() => _clientWaits = true;

    /// <summary>Watches <paramref name="fd"/> for <paramref name="events"/>; returns the handler's token. Loop thread only.</summary>
    public long Register(int fd, int events, IEventHandler handler)
    {
        int slot;
        if (_freeSlots.Count > 0)
        {
            slot = _freeSlots.Pop();
        }
        else
        {
            slot = _registered;
            if (slot == _handlers.Length)
                Array.Resize(ref _handlers, _handlers.Length * 2);
        }
        _handlers[slot] = handler;
        _registered = Math.Max(_registered, slot + 1);
        if (Native.Control(_epoll, Native.EpollCtlAdd, fd, events, slot) < 0)
        {
            _handlers[slot] = null;
            _freeSlots.Push(slot);
            throw new IOException("epoll_ctl ADD failed: errno " + Marshal.GetLastPInvokeError());
        }
        Count++;
        return slot;
    }

    /// <summary>Stops watching the handler of <paramref name="token"/> (its descriptor is closed by its owner). Loop thread only.</summary>
    public void Unregister(long token)
    {
        int slot = (int)token;
        if (_handlers[slot] is null)
            return;
        _handlers[slot] = null;
        // Free only once the current batch is done: an event already read may still name this slot.
        _releasedSlots.Add(slot);
        Count--;
    }

    /// <summary>Handlers registered now.</summary>
    public int Count { get; private set; }

    /// <summary>Ends the thread once no handler is left (the server is shutting down).</summary>
    public void StopWhenIdle() => Post(() => _stopWhenIdle = true);

    private void Run()
    {
        int size = Native.EventSize;
        byte* events = (byte*)NativeMemory.Alloc((nuint)(MaxEvents * size));
        try
        {
            bool poll = false;
            while (!_stopped)
            {
                int n = Wait(events, poll);
                _clientWaits = false;
                _sleepAfterPass = false;
                if (n < 0)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno == Native.EIntr)
                        continue;
                    _log.Warning("epoll_wait failed (errno " + errno + "): the server no longer serves its connections");
                    return;
                }
                for (int i = 0; i < n; i++)
                {
                    byte* e = events + i * size;
                    int mask = *(int*)e;
                    long token = *(long*)(e + Native.EventDataOffset);
                    if (token == WakeToken)
                    {
                        long count;
                        Native.Read(_wake, (byte*)&count, sizeof(long));
                        continue;
                    }
                    var handler = _handlers[(int)token];
                    if (handler is null)
                        continue;
                    try
                    {
                        handler.OnEvents(mask);
                    }
                    catch (Exception ex)
                    {
                        // A bug in one connection's handling: say so loudly and keep serving the others.
                        _log.Warning("Unexpected error in the event loop: " + ex);
                    }
                }
                RunPosted();
                foreach (int slot in _releasedSlots)
                    _freeSlots.Push(slot);
                _releasedSlots.Clear();
                if (_stopWhenIdle && Count == 0)
                    _stopped = true;
                poll = _clientWaits && !_sleepAfterPass;
            }
        }
        finally
        {
            NativeMemory.Free(events);
            if (_stopped)
            {
                Native.Close(_wake);
                Native.Close(_epoll);
            }
        }
    }

    /// <summary>epoll_wait, after polling for up to <c>event-loop-poll-us</c> when <paramref name="poll"/> (see <see cref="MayEverPoll"/>).</summary>
    private int Wait(byte* events, bool poll)
    {
        int pollUs = _options.EventLoopPollUs;
        if (!poll || pollUs == 0 || !MayEverPoll)
            return Native.EpollWait(_epoll, events, MaxEvents, -1);
        long deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * pollUs / 1_000_000;
        int n;
        do
        {
            n = Native.EpollWait(_epoll, events, MaxEvents, 0);
        }
        while (n == 0 && Stopwatch.GetTimestamp() < deadline);
        _stats.EventLoopPolls++;
        if (n > 0)
            _stats.EventLoopPollHits++;
        return n != 0 ? n : Native.EpollWait(_epoll, events, MaxEvents, -1);
    }

    private void RunPosted()
    {
        while (_posted.TryDequeue(out var action))
        {
            try
            {
                action();
            }
            catch (Exception ex)
            {
                _log.Warning("Unexpected error in the event loop: " + ex);
            }
        }
    }
}
