using System.Net;
using System.Net.Sockets;
using Psyncd.Execution;

namespace Psyncd.Network;

/// <summary>
/// Runs the loop's group commit (<see cref="CommandLoop.CommitPass"/>) when the socket engine has served every connection
/// it found ready: a datagram this socket sends to itself becomes readable in the engine's next wait, so its completion
/// runs after every completion of the current pass (on the engine's one thread, with the host's inline completions).
/// </summary>
/// <remarks>
/// redis-server writes its AOF once per event-loop iteration, in beforeSleep; the .NET sockets engine has no such hook,
/// and a thread-pool work item would race the engine's thread for the loop after the first connection. Only one datagram
/// is ever in flight (the loop asks once per pass), so none is dropped.
/// </remarks>
public sealed class PassEndSignal : IDisposable
{
    private readonly CommandLoop _loop;
    private readonly Socket _socket;
    private readonly SocketAsyncEventArgs _receive = new();
    private static readonly byte[] s_signal = [1];
    private volatile bool _disposed;

    public PassEndSignal(CommandLoop loop)
    {
        _loop = loop;
        _socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _socket.Connect(_socket.LocalEndPoint!);
        _receive.SetBuffer(new byte[16], 0, 16);
        _receive.Completed += (_, _) =>
        {
            if (Received())
                Receive();
        };
    }

    /// <summary>Starts waiting for signals; from now on the loop defers its commits to pass ends.</summary>
    public void Start()
    {
        Receive();
        _loop.RequestCommit = Signal;
    }

    /// <summary>Inside the loop: asks for a pass end. Should the datagram fail, a pool thread commits instead (later, never lost).</summary>
    private void Signal()
    {
        try
        {
            _socket.Send(s_signal);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static loop => loop.CommitPass(), _loop, preferLocal: false);
        }
    }

    private void Receive()
    {
        while (!_disposed)
        {
            try
            {
                if (_socket.ReceiveAsync(_receive))
                    return; // pending: Completed runs it at the pass end
            }
            catch (ObjectDisposedException)
            {
                return;
            }
            if (!Received())
                return;
        }
    }

    private bool Received()
    {
        if (_disposed)
            return false;
        if (_receive.SocketError != SocketError.Success)
        {
            // No more pass ends: every exit commits at once again, starting with what waits now.
            _loop.Run(() => _loop.RequestCommit = null);
            _loop.CommitPass();
            return false;
        }
        _loop.CommitPass();
        return true;
    }

    /// <summary>Back to committing at every exit (shutdown).</summary>
    public void Dispose()
    {
        _loop.Run(() => _loop.RequestCommit = null);
        _disposed = true;
        _socket.Dispose();
        _receive.Dispose();
    }
}
