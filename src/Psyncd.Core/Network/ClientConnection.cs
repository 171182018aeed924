using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Text;

namespace Psyncd.Network;

/// <summary>
/// One accepted connection: the receive loop that feeds the client's input to the command loop, and the
/// teardown when it ends. Output is the client's <see cref="ClientOutput"/>, flushed by the loop.
/// </summary>
internal sealed class ClientConnection : IClientConnection
{
    private readonly ConnectionContext _connection;
    private readonly CommandLoop _loop;
    private readonly CommandProcessor _processor;
    private readonly ClientRegistry _clients;
    private readonly ServerStats _stats;
    private readonly ServerOptions _options;
    private readonly ServerLog _log;
    private readonly Client _client;

    /// <summary>Bytes of the previous read already counted in the input statistics.</summary>
    private long _countedInput;

    public ClientConnection(ConnectionContext connection, Client client, CommandLoop loop, CommandProcessor processor,
        ClientRegistry clients, ServerStats stats, ServerOptions options, ServerLog log)
    {
        _connection = connection;
        _loop = loop;
        _processor = processor;
        _clients = clients;
        _stats = stats;
        _options = options;
        _log = log;
        _client = client;
        client.Connection = this;
    }

    public Client Client => _client;

    public void Close() => _connection.Abort();

    /// <remarks>
    /// Never directly: with inline scheduling, cancelling the pending read would run the client's receive
    /// continuation on this thread, inside the caller's loop pass. The thread pool resumes it instead.
    /// </remarks>
    public void Resume() => ThreadPool.UnsafeQueueUserWorkItem(static input => input.CancelPendingRead(), _connection.Transport.Input, preferLocal: false);

    /// <summary>Runs until the peer goes away or the client is closed; never throws.</summary>
    public async Task RunAsync()
    {
        string? reason = null;
        try
        {
            reason = await ReceiveAsync().ConfigureAwait(false);
        }
        catch (ConnectionResetException)
        {
            reason = "connection reset by peer";
        }
        catch (ConnectionAbortedException)
        {
            reason = "connection closed";
        }
        catch (IOException e)
        {
            reason = e.Message;
        }
        catch (Exception e)
        {
            // A bug: report it loudly, close only this connection, and keep serving everyone else.
            _log.Warning("Unexpected error on client " + _client.Describe() + ": " + e);
            reason = "internal error";
        }
        finally
        {
            await CloseAsync(reason).ConfigureAwait(false);
        }
    }

    /// <summary>The receive loop; returns why it ended.</summary>
    private async Task<string?> ReceiveAsync()
    {
        var input = _connection.Transport.Input;
        while (true)
        {
            var result = await input.ReadAsync().ConfigureAwait(false);
            var buffer = result.Buffer;
            long consumed;
            bool closing;
            // The master's stream: how long its bytes wait from here to applied (a replica's master_lag_ms).
            long readAt = (_client.Flags & ClientFlags.Master) != 0 ? Stopwatch.GetTimestamp() : 0;
            _loop.Enter();
            try
            {
                _stats.TotalNetInputBytes += buffer.Length - _countedInput;
                consumed = Process(buffer);
                if (readAt != 0)
                    _client.MaxApplyDelayTicks = Math.Max(_client.MaxApplyDelayTicks, Stopwatch.GetTimestamp() - readAt);
                _countedInput = buffer.Length - consumed;
                _client.QueryBufferBytes = buffer.Length - consumed;
                if (_client.QueryBufferBytes > _options.ClientQueryBufferLimit && !_client.IsClosing)
                    CloseForQueryBuffer(buffer.Slice(consumed));
                _loop.ScheduleFlush(_client);
                closing = _client.IsClosing;
            }
            finally
            {
                _loop.Exit();
            }
            input.AdvanceTo(buffer.GetPosition(consumed), buffer.End);
            if (closing)
                return _client.Has(ClientFlags.CloseAsap) ? "killed" : null;
            if (result.IsCompleted)
                return "client closed connection";
        }
    }

    /// <summary>client-query-buffer-limit: the client is dropped without a reply, logged as redis-server logs it.</summary>
    private void CloseForQueryBuffer(in ReadOnlySequence<byte> unprocessed)
    {
        Span<byte> initial = stackalloc byte[64];
        var head = unprocessed.Slice(0, Math.Min(unprocessed.Length, initial.Length));
        head.CopyTo(initial);
        _log.Warning("Closing client that reached max query buffer length: " + ClientListFormat.Line(_client) +
            " (qbuf initial bytes: " + Repr.Quote(initial[..(int)head.Length]) + ")");
        _client.Flags |= ClientFlags.CloseAsap;
    }

    /// <summary>Executes the complete requests in <paramref name="buffer"/>; returns the bytes consumed.</summary>
    private long Process(in ReadOnlySequence<byte> buffer)
    {
        var processor = _processor;
        if (buffer.IsSingleSegment)
            return processor.ProcessInput(_client, buffer.FirstSpan);

        // Requests that lie whole in the first segment run from it; the rest is copied into one
        // contiguous buffer, once it holds at least the bytes the next request is known to need.
        long consumed = processor.ProcessInput(_client, buffer.FirstSpan);
        if ((_client.Flags & (ClientFlags.Blocked | ClientFlags.CloseAsap | ClientFlags.CloseAfterReply)) != 0)
            return consumed;
        var rest = buffer.Slice(consumed);
        if (rest.Length < _client.Parser.MinimumBytesNeeded || rest.Length > int.MaxValue)
            return consumed;
        int length = (int)rest.Length;
        var linear = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            rest.CopyTo(linear);
            consumed += processor.ProcessInput(_client, linear.AsSpan(0, length));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(linear);
        }
        return consumed;
    }

    private async Task CloseAsync(string? reason)
    {
        _loop.Enter();
        try
        {
            if (_client.Has(ClientFlags.CloseAfterReply) && !_client.Has(ClientFlags.CloseAsap))
                _client.Output.Flush();
            _clients.RemoveClient(_client, reason);
            _client.Output.Discard();
        }
        finally
        {
            _loop.Exit();
        }
        try
        {
            await _connection.Transport.Output.CompleteAsync().ConfigureAwait(false);
            await _connection.Transport.Input.CompleteAsync().ConfigureAwait(false);
            await _connection.DisposeAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException or ConnectionAbortedException)
        {
            // The transport is already torn down; nothing left to release.
        }
    }
}
