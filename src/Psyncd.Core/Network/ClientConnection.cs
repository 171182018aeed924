using System.Buffers;
using System.Diagnostics;
using System.Runtime.InteropServices;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Text;

namespace Psyncd.Network;

/// <summary>
/// One accepted connection, driven by the <see cref="EventLoop"/>: each time its socket is readable, one recv,
/// then the complete requests run in the command loop; the teardown when it ends. Output is the client's
/// <see cref="ClientOutput"/> over a <see cref="SocketWriter"/>, flushed by the command loop.
/// </summary>
/// <remarks>
/// Input is received into the event loop's shared buffer and run from there; only the bytes of a request not
/// complete yet (or not run yet: the client blocked, or paused) are copied into a buffer of the connection's
/// own, which later reads then extend. An idle connection holds no input buffer, as Redis frees an idle
/// client's query buffer. Input is touched only inside the command loop, by the event loop's thread or by the
/// thread that resumes an unblocked client.
/// </remarks>
internal sealed unsafe class ClientConnection : IClientConnection, IEventHandler
{
    /// <summary>Pending input up to this size comes from the array pool; a larger one (a big argument) is dropped to the GC once run.</summary>
    private const int PooledInputLimit = 64 * 1024;

    private readonly int _fd;
    private readonly EventLoop _events;
    private readonly CommandLoop _loop;
    private readonly CommandProcessor _processor;
    private readonly ClientRegistry _clients;
    private readonly ServerStats _stats;
    private readonly ServerOptions _options;
    private readonly ServerLog _log;
    private readonly Client _client;
    private readonly SocketWriter _writer;
    private readonly long _token;

    /// <summary>Input received and not run yet: [0, _pendingLength) of _pending.</summary>
    private byte[]? _pending;
    private int _pendingLength;

    /// <summary>Set once the connection is gone (on the event loop's thread).</summary>
    private bool _closed;

    /// <summary>Set when a teardown was asked for (any thread).</summary>
    private int _closeRequested;

    private ClientConnection(int fd, EventLoop events, Client client, SocketWriter writer, long token, CommandLoop loop, CommandProcessor processor,
        ClientRegistry clients, ServerStats stats, ServerOptions options, ServerLog log)
    {
        _fd = fd;
        _events = events;
        _client = client;
        _writer = writer;
        _token = token;
        _loop = loop;
        _processor = processor;
        _clients = clients;
        _stats = stats;
        _options = options;
        _log = log;
        client.Connection = this;
    }

    /// <summary>
    /// Registers an accepted socket with the event loop (its thread only) and builds its client; the caller
    /// decides whether it is served or refused.
    /// </summary>
    public static ClientConnection Create(int fd, string? unixPath, EventLoop events, CommandLoop loop, CommandProcessor processor,
        ClientRegistry clients, ServerStats stats, ServerOptions options, ServerLog log)
    {
        var holder = new Holder();
        long token = events.Register(fd, Native.EpollIn, holder);
        var writer = new SocketWriter(fd, events.Epoll, token, ClientOutput.TransportBufferBytes);
        var output = new ClientOutput(writer, loop);
        var client = new Client(output, Native.EndPointOf(fd, local: false), Native.EndPointOf(fd, local: true), unixPath) { Fd = fd };
        var connection = new ClientConnection(fd, events, client, writer, token, loop, processor, clients, stats, options, log);
        holder.Target = connection;
        return connection;
    }

    /// <summary>
    /// Serves a connection made elsewhere as <paramref name="client"/>'s (a replica's link to its master, once the
    /// handshake and the payload are done: its input is the master's stream), on the event loop's thread.
    /// <paramref name="received"/> are bytes already read from it, run first (<see cref="RunReceived"/>);
    /// <paramref name="ended"/> is told why the connection ended, after its teardown. The client's output stays its
    /// own (the master client's drops its replies); <see cref="Writer"/> sends to the peer (REPLCONF ACK).
    /// </summary>
    public static ClientConnection Adopt(int fd, Client client, ReadOnlySpan<byte> received, Action<string?> ended, EventLoop events,
        CommandLoop loop, CommandProcessor processor, ClientRegistry clients, ServerStats stats, ServerOptions options, ServerLog log)
    {
        var holder = new Holder();
        long token = events.Register(fd, Native.EpollIn, holder);
        var writer = new SocketWriter(fd, events.Epoll, token, ClientOutput.TransportBufferBytes);
        client.Fd = fd;
        var connection = new ClientConnection(fd, events, client, writer, token, loop, processor, clients, stats, options, log) { _ended = ended };
        if (received.Length > 0)
            connection.KeepPending(received);
        holder.Target = connection;
        return connection;
    }

    /// <summary>Told why the connection ended, once torn down (adopted connections).</summary>
    private Action<string?>? _ended;

    /// <summary>What sends to the peer.</summary>
    internal SocketWriter Writer => _writer;

    /// <summary>Runs the bytes an adopted connection came with (the event loop's thread, before its next read).</summary>
    public void RunReceived() => RunPending();

    /// <summary>Lets the handler be registered before the connection it calls exists.</summary>
    private sealed class Holder : IEventHandler
    {
        public ClientConnection? Target;

        public void OnEvents(int events) => Target?.OnEvents(events);
    }

    public Client Client => _client;

    /// <summary>Ends the connection: the event loop notices and cleans up.</summary>
    public void Close()
    {
        _writer.Abort();
        RequestTeardown("connection closed");
    }

    /// <remarks>
    /// Never directly: the caller is inside the loop, in the middle of a pass; the unblocked client's pending
    /// input runs on the thread pool, in a pass of its own.
    /// </remarks>
    public void Resume() => ThreadPool.UnsafeQueueUserWorkItem(static c => c.RunPending(), this, preferLocal: false);

    /// <summary>Refuses the connection with <paramref name="reply"/> (maxclients, protected mode), then closes it.</summary>
    public void Refuse(byte[] reply)
    {
        _events.Unregister(_token);
        fixed (byte* p = reply)
            Native.Send(_fd, p, reply.Length, Native.MsgDontWait | Native.MsgNoSignal);
        _closed = true;
        _writer.CloseTransport(sendFirst: false);
    }

    public void OnEvents(int events)
    {
        if (_closed)
            return;
        if ((events & Native.EpollOut) != 0)
            _writer.OnWritable();
        if ((events & (Native.EpollIn | Native.EpollHup | Native.EpollErr | Native.EpollRdHup)) != 0)
            OnReadable();
    }

    private void OnReadable()
    {
        string? ended = null;
        bool closing;
        // The master's stream: how long its bytes wait for the loop and their turn (a replica's master_lag_ms).
        long readAt = (_client.Flags & ClientFlags.Master) != 0 ? Stopwatch.GetTimestamp() : 0;
        if (readAt == 0)
            _events.ClientWaits();
        _loop.Enter();
        try
        {
            ended = Receive(out int received);
            if (received > 0)
                RunInput(received);
            if (readAt != 0)
                _client.MaxApplyDelayTicks = Math.Max(_client.MaxApplyDelayTicks, Stopwatch.GetTimestamp() - readAt);
            closing = _client.IsClosing;
        }
        finally
        {
            _loop.Exit();
        }
        if (ended is not null || closing)
            TearDown(ended ?? (_client.Has(ClientFlags.CloseAsap) ? "killed" : null));
    }

    /// <summary>One recv: into the connection's pending buffer when it holds a partial request, else into the shared one.</summary>
    /// <returns>Why the connection ended, or null.</returns>
    private string? Receive(out int received)
    {
        received = 0;
        nint n;
        if (_pendingLength == 0)
        {
            fixed (byte* p = _events.ReadBuffer)
                n = Native.Recv(_fd, p, _events.ReadBuffer.Length, Native.MsgDontWait);
        }
        else
        {
            // Room for what the request being received is known to need, grown by doubling at most: a peer that
            // announces a large argument and sends nothing does not get the whole of it allocated.
            long needed = Math.Max(_pendingLength + 16384L, Math.Min(_client.Parser.MinimumBytesNeeded, _pending!.Length * 2L));
            if (_pending.Length < needed)
                GrowPending(needed);
            fixed (byte* p = _pending)
                n = Native.Recv(_fd, p + _pendingLength, _pending.Length - _pendingLength, Native.MsgDontWait);
        }
        if (n > 0)
        {
            received = (int)n;
            _stats.TotalNetInputBytes += n;
            return null;
        }
        if (n == 0)
            return "client closed connection";
        int errno = Marshal.GetLastPInvokeError();
        if (errno is Native.EAgain or Native.EIntr)
            return null;
        return errno == 104 ? "connection reset by peer" : "receive error (errno " + errno + ")";
    }

    /// <summary>Runs the input received (<paramref name="received"/> new bytes), keeping what is left for later. Inside the loop.</summary>
    private void RunInput(int received)
    {
        if (_pendingLength == 0)
        {
            var input = _events.ReadBuffer.AsSpan(0, received);
            int consumed = _client.IsClosing ? received : _processor.ProcessInput(_client, input);
            if (consumed < received)
                KeepPending(input[consumed..]);
        }
        else
        {
            _pendingLength += received;
            RunPendingInside();
        }
        AfterInput();
    }

    /// <summary>An unblocked client's input, run again on the thread pool.</summary>
    private void RunPending()
    {
        bool closing;
        _loop.Enter();
        try
        {
            if (_closed)
                return;
            RunPendingInside();
            AfterInput();
            closing = _client.IsClosing;
        }
        finally
        {
            _loop.Exit();
        }
        if (closing)
            RequestTeardown(_client.Has(ClientFlags.CloseAsap) ? "killed" : null);
    }

    private void RunPendingInside()
    {
        if (_pendingLength == 0 || _client.IsClosing)
            return;
        int consumed = _processor.ProcessInput(_client, _pending.AsSpan(0, _pendingLength));
        if (consumed == 0)
            return;
        int left = _pendingLength - consumed;
        if (left == 0)
        {
            ReleasePending();
            return;
        }
        _pending.AsSpan(consumed, left).CopyTo(_pending);
        _pendingLength = left;
    }

    private void AfterInput()
    {
        _client.QueryBufferBytes = _pendingLength;
        // The master is exempt, as in Redis 7: dropping it would only meet the same write again after the PSYNC.
        if (_pendingLength > _options.ClientQueryBufferLimit && !_client.IsClosing && !_client.Has(ClientFlags.Master))
            CloseForQueryBuffer(_client, _pending.AsSpan(0, Math.Min(_pendingLength, 64)), _log);
        _loop.ScheduleFlush(_client);
    }

    private void KeepPending(ReadOnlySpan<byte> rest)
    {
        long size = Math.Max(Math.Min(_client.Parser.MinimumBytesNeeded, rest.Length * 2L), rest.Length + 16384L);
        _pending = size <= PooledInputLimit ? ArrayPool<byte>.Shared.Rent((int)size) : new byte[size];
        rest.CopyTo(_pending);
        _pendingLength = rest.Length;
    }

    private void GrowPending(long needed)
    {
        long size = Math.Min(needed, Array.MaxLength);
        var bigger = size <= PooledInputLimit ? ArrayPool<byte>.Shared.Rent((int)size) : new byte[size];
        var old = _pending!;
        old.AsSpan(0, _pendingLength).CopyTo(bigger);
        ReturnPending(old);
        _pending = bigger;
    }

    private void ReleasePending()
    {
        if (_pending is { } pending)
            ReturnPending(pending);
        _pending = null;
        _pendingLength = 0;
    }

    private static void ReturnPending(byte[] buffer)
    {
        if (buffer.Length <= PooledInputLimit)
            ArrayPool<byte>.Shared.Return(buffer);
        else
            ReleasedMemory.Note(buffer.Length); // a big argument's buffer becomes garbage: the cron may reclaim it
    }

    /// <summary>client-query-buffer-limit: the client is dropped without a reply, logged as redis-server logs it.</summary>
    internal static void CloseForQueryBuffer(Client client, ReadOnlySpan<byte> head, ServerLog log)
    {
        log.Warning("Closing client that reached max query buffer length: " + ClientListFormat.Line(client) +
            " (qbuf initial bytes: " + Repr.Quote(head) + ")");
        client.Flags |= ClientFlags.CloseAsap;
    }

    /// <summary>Asks the event loop's thread to tear the connection down.</summary>
    private void RequestTeardown(string? reason)
    {
        if (Interlocked.Exchange(ref _closeRequested, 1) != 0)
            return;
        _events.Post(() => TearDown(reason));
    }

    /// <summary>Removes the client and closes the socket (the event loop's thread).</summary>
    private void TearDown(string? reason)
    {
        if (_closed)
            return;
        _closed = true;
        Interlocked.Exchange(ref _closeRequested, 1);
        bool flushFirst;
        _loop.Enter();
        try
        {
            flushFirst = _client.Has(ClientFlags.CloseAfterReply) && !_client.Has(ClientFlags.CloseAsap);
            if (flushFirst)
                _client.Output.Flush();
            _clients.RemoveClient(_client, reason);
            _client.Output.Discard();
            ReleasePending();
        }
        finally
        {
            _loop.Exit();
        }
        _events.Unregister(_token);
        _writer.CloseTransport(sendFirst: flushFirst);
        _ended?.Invoke(reason);
    }
}
