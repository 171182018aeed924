using System.Collections.Concurrent;
using System.Diagnostics;
using System.Runtime.InteropServices;
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
    /// After a pass that served events, the loop polls (epoll_wait without a timeout) for this long before it blocks.
    /// </summary>
    /// <remarks>
    /// Measured under redis-benchmark (docs/performance.md, "Who is the bottleneck"): the single-threaded client
    /// is what limits the rate on two cores, and a client's send to a server asleep in epoll_wait pays for the
    /// wake-up, a cross-CPU interrupt that costs a virtual machine dearly. psyncd, faster per request than
    /// redis-server, blocked 3-4 times as often as it (one pass in three at -P 16), and redis-benchmark's CPU per
    /// request was 5-10% higher against it, its rate as much lower. Polling this briefly before blocking made
    /// such blocks 30-50 times rarer and the client's rate up to redis-server's; it costs the server's own CPU
    /// (at most this much per pass, and nothing on an idle server, which blocks after one such wait). A single
    /// core has nobody to hand a poll's time to: there the loop blocks at once.
    /// </remarks>
    private static readonly long PollTicks = Environment.ProcessorCount > 1 ? Stopwatch.Frequency * 20 / 1_000_000 : 0;

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

    /// <summary>Where each readable connection's bytes are received first (pinned: recv writes into it directly).</summary>
    public byte[] ReadBuffer { get; } = GC.AllocateArray<byte>(ReadBufferSize, pinned: true);

    /// <summary>
    /// Bytes one recv may take: as much as a pipelined batch of many requests, so that a bulk load (redis-cli
    /// --pipe) takes few calls. Partial requests are copied out of it (<see cref="ClientConnection"/>).
    /// </summary>
    public const int ReadBufferSize = 64 * 1024;

    public EventLoop(ServerLog log)
    {
        _log = log;
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
            bool served = false;
            while (!_stopped)
            {
                int n = Wait(events, poll: served);
                served = n > 0;
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

    /// <summary>epoll_wait, after polling for <see cref="PollTicks"/> when <paramref name="poll"/> (the last pass served events).</summary>
    private int Wait(byte* events, bool poll)
    {
        if (!poll || PollTicks == 0)
            return Native.EpollWait(_epoll, events, MaxEvents, -1);
        long deadline = Stopwatch.GetTimestamp() + PollTicks;
        int n;
        do
        {
            n = Native.EpollWait(_epoll, events, MaxEvents, 0);
        }
        while (n == 0 && Stopwatch.GetTimestamp() < deadline);
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
