using System.Net;
using System.Net.Sockets;

namespace Psyncd.Tests.Support;

/// <summary>
/// A TCP proxy on 127.0.0.1 between a replica and its master, that a test can cut: <see cref="DropAll"/>
/// closes every connection through it at once (as a network failure would), and new connections keep
/// being accepted and forwarded. <see cref="Stalled"/> holds every byte in both directions (a link that
/// stops delivering without closing), and <see cref="InspectFromTarget"/> sees each chunk the target
/// sends before it is forwarded (to cut or stall at a chosen point of a transfer).
/// </summary>
public sealed class TcpProxy : IDisposable
{
    private readonly TcpListener _listener;
    private readonly int _targetPort;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(TcpClient A, TcpClient B)> _pairs = new();
    private readonly Task _accepting;

    public TcpProxy(int targetPort)
    {
        _targetPort = targetPort;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>
    /// Called with each chunk read from the target (the master), before it is forwarded; false cuts every
    /// connection instead of forwarding it. It may set <see cref="Stalled"/> to hold this very chunk.
    /// </summary>
    public Func<ReadOnlyMemory<byte>, bool>? InspectFromTarget { get; set; }

    /// <summary>While true, nothing is forwarded in either direction (connections stay open).</summary>
    public bool Stalled
    {
        get => _stalled;
        set => _stalled = value;
    }

    private volatile bool _stalled;

    /// <summary>Connections forwarded so far.</summary>
    public int Accepted { get; private set; }

    /// <summary>Closes every connection through the proxy (both sides), without warning either end.</summary>
    public void DropAll()
    {
        lock (_pairs)
        {
            foreach (var (a, b) in _pairs)
            {
                Reset(a);
                Reset(b);
            }
            _pairs.Clear();
        }
    }

    /// <summary>Closes with a reset, like a broken link (a pump may have closed it already).</summary>
    private static void Reset(TcpClient client)
    {
        try
        {
            if (client.Client is { } socket)
                socket.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
        client.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            if (await _listener.AcceptOrNullAsync(_stop.Token) is not { } inbound)
                return;
            var outbound = new TcpClient { NoDelay = true };
            try
            {
                await outbound.ConnectAsync(IPAddress.Loopback, _targetPort, _stop.Token);
            }
            catch (Exception e) when (e is SocketException or OperationCanceledException)
            {
                inbound.Dispose();
                outbound.Dispose();
                continue;
            }
            inbound.NoDelay = true;
            lock (_pairs)
                _pairs.Add((inbound, outbound));
            Accepted++;
            _ = PumpAsync(inbound, outbound, fromTarget: false);
            _ = PumpAsync(outbound, inbound, fromTarget: true);
        }
    }

    private async Task PumpAsync(TcpClient from, TcpClient to, bool fromTarget)
    {
        var buffer = new byte[64 * 1024];
        try
        {
            var source = from.GetStream();
            var target = to.GetStream();
            while (true)
            {
                // A stall holds reads too, so the sender's socket buffers fill as on a dead network path.
                while (_stalled)
                    await Task.Delay(10, _stop.Token);
                int n = await source.ReadAsync(buffer, _stop.Token);
                if (n == 0)
                    break;
                if (fromTarget && InspectFromTarget is { } inspect && !inspect(buffer.AsMemory(0, n)))
                {
                    DropAll();
                    break;
                }
                while (_stalled)
                    await Task.Delay(10, _stop.Token);
                await target.WriteAsync(buffer.AsMemory(0, n), _stop.Token);
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or OperationCanceledException or SocketException or InvalidOperationException)
        {
            // The link was cut (by DropAll or either end): the other direction notices too.
        }
        from.Dispose();
        to.Dispose();
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        DropAll();
        try
        {
            _accepting.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Cancelled.
        }
    }
}
