using System.Runtime.CompilerServices;
using System.IO.Pipelines;
using System.Runtime.InteropServices;
using System.Threading.Tasks.Sources;

namespace Psyncd.Network;

/// <summary>
/// A connection's output as a <see cref="PipeWriter"/> (what <see cref="Execution.ClientOutput"/> and the RDB
/// transfers write to): bytes are written into pooled segments, and <see cref="FlushAsync"/> sends them at
/// once, with one sendmsg for all of them. What the socket does not take waits here, and the event loop
/// sends it when epoll reports the socket writable.
/// </summary>
/// <remarks>
/// As Kestrel's pipe did (its MaxWriteBufferSize), a flush completes at once unless
/// <see cref="PauseThreshold"/> bytes or more are left unsent; it then completes when everything is sent.
/// One writer at a time (the loop, or a transfer thread while the client's output is held), as any pipe;
/// the event loop's thread sends concurrently, so the segments the sender sees change under a lock.
/// An idle connection holds no segment: they go back to the pool once everything is sent.
/// </remarks>
internal sealed unsafe class SocketWriter : PipeWriter, IValueTaskSource<FlushResult>
{
    private const int SegmentSize = 16 * 1024;
    private const int MaxIovecs = 64;

    private sealed class Segment
    {
        public byte[] Buffer = null!;

        /// <summary>First byte not sent yet.</summary>
        public int Start;

        /// <summary>End of the bytes flushed (the sender's limit).</summary>
        public int End;

        /// <summary>End of the bytes written (the writer's position).</summary>
        public int Written;

        public Segment? Next;
    }

    private readonly Lock _sync = new();
    private readonly int _fd;
    private readonly int _epoll;
    private readonly long _token;

    private Segment? _head;
    private Segment? _tail;

    /// <summary>Bytes written and not flushed.</summary>
    private long _unflushed;

    /// <summary>Bytes flushed and not sent.</summary>
    private long _unsent;

    /// <summary>True while EPOLLOUT is asked for (something waits for the socket).</summary>
    private bool _waitingWritable;

    /// <summary>True once the socket failed or its descriptor is closed: writes are dropped, flushes report completion.</summary>
    private bool _closed;

    /// <summary>True once the descriptor is closed (<see cref="CloseTransport"/>, exactly once).</summary>
    private bool _fdClosed;

    private ManualResetValueTaskSourceCore<FlushResult> _flush = new() { RunContinuationsAsynchronously = true };
    private bool _flushWaiting;

    public SocketWriter(int fd, int epoll, long token, int pauseThreshold)
    {
        _fd = fd;
        _epoll = epoll;
        _token = token;
        PauseThreshold = pauseThreshold;
    }

    /// <summary>Unsent bytes from which a flush waits for the socket.</summary>
    public int PauseThreshold { get; }

    public override bool CanGetUnflushedBytes => true;

    public override long UnflushedBytes => _unflushed;

    public override void Advance(int bytes)
    {
        _tail!.Written += bytes;
        _unflushed += bytes;
    }

    public override Memory<byte> GetMemory(int sizeHint = 0) => Reserve(sizeHint).AsMemory(_tail!.Written);

    public override Span<byte> GetSpan(int sizeHint = 0) => Reserve(sizeHint).AsSpan(_tail!.Written);

    private byte[] Reserve(int sizeHint)
    {
        var tail = _tail;
        if (tail is not null && tail.Buffer.Length - tail.Written >= Math.Max(sizeHint, 1))
            return tail.Buffer;
        var segment = new Segment { Buffer = RentPinned(sizeHint) };
        lock (_sync)
        {
            if (tail is null)
                _head = segment;
            else
                tail.Next = segment;
            _tail = segment;
        }
        return segment.Buffer;
    }

    public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
    {
        lock (_sync)
        {
            if (_closed)
            {
                DropSegments(toPool: true);
                return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: true));
            }
            for (var s = _head; s is not null; s = s.Next)
            {
                _unsent += s.Written - s.End;
                s.End = s.Written;
            }
            _unflushed = 0;
            if (!_waitingWritable)
            {
                if (SendPending())
                {
                    // Everything went: nothing of the writer's is outstanding during a flush, so all segments go back.
                    DropSegments(toPool: true);
                    return default;
                }
                if (_closed)
                {
                    DropSegments(toPool: true);
                    return new ValueTask<FlushResult>(new FlushResult(isCanceled: false, isCompleted: true));
                }
                WatchWritable(true);
            }
            if (_unsent < PauseThreshold)
                return default;
            _flush.Reset();
            _flushWaiting = true;
            return new ValueTask<FlushResult>(this, _flush.Version);
        }
    }

    /// <summary>The socket is writable again (the event loop's thread): sends what waits, and ends a waiting flush once all went.</summary>
    public void OnWritable()
    {
        bool complete = false;
        bool gone;
        lock (_sync)
        {
            if (_closed)
                return;
            bool drained = SendPending();
            gone = _closed;
            if (drained || gone)
            {
                if (!gone)
                    WatchWritable(false);
                if (_flushWaiting)
                {
                    _flushWaiting = false;
                    complete = true;
                }
            }
        }
        // Outside the lock: the continuation may flush again.
        if (complete)
            _flush.SetResult(new FlushResult(isCanceled: false, isCompleted: gone));
    }

    /// <summary>
    /// Closes the descriptor (after one last try to send what was flushed when <paramref name="sendFirst"/>).
    /// A waiting flush completes as "transport gone". Safe from any thread, once.
    /// </summary>
    public void CloseTransport(bool sendFirst)
    {
        bool complete;
        lock (_sync)
        {
            if (_fdClosed)
                return;
            if (sendFirst && !_closed)
                SendPending();
            _closed = true;
            _fdClosed = true;
            Native.Control(_epoll, Native.EpollCtlDel, _fd, 0, 0);
            Native.Close(_fd);
            // Not to the pool: a transfer thread may still be writing into the last segment.
            DropSegments(toPool: false);
            complete = _flushWaiting;
            _flushWaiting = false;
        }
        if (complete)
            _flush.SetResult(new FlushResult(isCanceled: false, isCompleted: true));
    }

    /// <summary>Shuts the socket down (both ways) so that the event loop sees it end; the descriptor stays until <see cref="CloseTransport"/>.</summary>
    public void Abort()
    {
        lock (_sync)
        {
            if (!_fdClosed)
                Native.Shutdown(_fd, Native.ShutRdWr);
        }
    }

    /// <summary>Sends flushed bytes until none is left (true) or the socket takes no more (false). Under the lock.</summary>
    private bool SendPending()
    {
        var iov = stackalloc long[MaxIovecs * 2];
        while (_unsent > 0)
        {
            int count = 0;
            for (var s = _head; s is not null && count < MaxIovecs; s = s.Next)
            {
                int length = s.End - s.Start;
                if (length == 0)
                    continue;
                // Segments live on the pinned object heap: their address is stable.
                iov[count * 2] = (long)Unsafe.AsPointer(ref s.Buffer[s.Start]);
                iov[count * 2 + 1] = length;
                count++;
            }
            long sent = SendMessage(iov, count);
            if (sent < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == Native.EAgain)
                    return false;
                if (errno == Native.EIntr)
                    continue;
                // The peer is gone (EPIPE, ECONNRESET...): the receive side sees it too and tears the client down.
                _closed = true;
                Native.Shutdown(_fd, Native.ShutRdWr);
                return false;
            }
            _unsent -= sent;
            ConsumeSent(sent);
        }
        return true;
    }

    private long SendMessage(long* iov, int count)
    {
        // struct msghdr on 64-bit Linux: name, namelen (+pad), iov, iovlen, control, controllen, flags (+pad).
        var header = stackalloc long[7];
        header[0] = 0;
        header[1] = 0;
        header[2] = (long)iov;
        header[3] = count;
        header[4] = 0;
        header[5] = 0;
        header[6] = 0;
        return Native.SendMsg(_fd, (byte*)header, Native.MsgDontWait | Native.MsgNoSignal);
    }

    /// <summary>Moves past <paramref name="sent"/> bytes; segments fully sent go back to the pool, except the one being written.</summary>
    private void ConsumeSent(long sent)
    {
        var s = _head;
        while (s is not null && sent > 0)
        {
            int take = (int)Math.Min(sent, s.End - s.Start);
            s.Start += take;
            sent -= take;
            // Written beyond End (bytes of the next flush) keeps a segment; so does the writer's current one.
            if (s != _tail && s.Start == s.Written)
            {
                ReturnPinned(s.Buffer);
                _head = s.Next;
                s = _head;
            }
            else if (s.Start < s.End)
            {
                break;
            }
            else
            {
                s = s.Next;
            }
        }
    }

    private void DropSegments(bool toPool)
    {
        for (var s = _head; toPool && s is not null; s = s.Next)
            ReturnPinned(s.Buffer);
        _head = _tail = null;
        _unsent = 0;
        _unflushed = 0;
    }

    private void WatchWritable(bool on)
    {
        if (_waitingWritable == on)
            return;
        _waitingWritable = on;
        Native.Control(_epoll, Native.EpollCtlMod, _fd, on ? Native.EpollIn | Native.EpollOut : Native.EpollIn, _token);
    }

    // Segments are pinned so that sendmsg can read them without a GCHandle per call. A few are kept for reuse: a
    // batch's replies take one per client at a time, returned when its flush sends them.
    private static readonly Stack<byte[]> s_pool = new();
    private static readonly Lock s_poolSync = new();
    private const int PoolLimit = 64;

    private static byte[] RentPinned(int sizeHint)
    {
        if (sizeHint <= SegmentSize)
        {
            lock (s_poolSync)
            {
                if (s_pool.TryPop(out var pooled))
                    return pooled;
            }
        }
        return GC.AllocateUninitializedArray<byte>(Math.Max(sizeHint, SegmentSize), pinned: true);
    }

    private static void ReturnPinned(byte[] buffer)
    {
        if (buffer.Length != SegmentSize)
            return;
        lock (s_poolSync)
        {
            if (s_pool.Count < PoolLimit)
                s_pool.Push(buffer);
        }
    }

    public override void CancelPendingFlush()
    {
        bool complete;
        lock (_sync)
        {
            complete = _flushWaiting;
            _flushWaiting = false;
        }
        if (complete)
            _flush.SetResult(new FlushResult(isCanceled: true, isCompleted: false));
    }

    public override void Complete(Exception? exception = null) => CloseTransport(sendFirst: exception is null);

    FlushResult IValueTaskSource<FlushResult>.GetResult(short token) => _flush.GetResult(token);

    ValueTaskSourceStatus IValueTaskSource<FlushResult>.GetStatus(short token) => _flush.GetStatus(token);

    void IValueTaskSource<FlushResult>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags)
        => _flush.OnCompleted(continuation, state, token, flags);
}
