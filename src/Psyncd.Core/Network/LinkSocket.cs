using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;

namespace Psyncd.Network;

/// <summary>
/// A replica's connection to its master while the handshake and the payload are exchanged: a non-blocking
/// descriptor driven by the link's own thread, each read and write waiting at most <see cref="TimeoutMs"/> in
/// one poll, with a read buffer for the reply lines. Once the stream starts, <see cref="Detach"/> gives the
/// descriptor to the event loop (<see cref="ClientConnection.Adopt"/>) with the bytes already read.
/// </summary>
/// <remarks>
/// Why not .NET's <see cref="Socket"/>: its first asynchronous call registers the descriptor with the runtime's
/// own epoll thread, which a descriptor handed to our event loop would then keep (epoll forgets a descriptor
/// only when its last copy is closed). Connecting here takes a socket(2), a connect(2) and a poll(2).
/// <see cref="Abort"/> may come from any thread (the replica stops, or times out): it shuts the socket down,
/// which ends a wait of the link's thread at once; the descriptor is closed only by its owner.
/// </remarks>
internal sealed unsafe class LinkSocket : IDisposable
{
    private readonly Lock _sync = new();
    private readonly int _fd;

    /// <summary>Set once the descriptor is closed or given away: Abort no longer touches it.</summary>
    private bool _released;

    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private LinkSocket(int fd, int timeoutMs)
    {
        _fd = fd;
        TimeoutMs = timeoutMs;
    }

    /// <summary>The longest wait for one read or write to make progress; a longer silence throws <see cref="TimeoutException"/>.</summary>
    public int TimeoutMs { get; set; }

    /// <summary>The descriptor (CLIENT LIST's fd, the endpoints).</summary>
    internal int Fd => _fd;

    public EndPoint? RemoteEndPoint => Native.EndPointOf(_fd, local: false);

    public EndPoint? LocalEndPoint => Native.EndPointOf(_fd, local: true);

    /// <summary>
    /// Connects to <paramref name="host"/>:<paramref name="port"/>, trying each of its addresses in turn, each for
    /// at most <paramref name="timeoutMs"/> (blocking the calling thread). Throws <see cref="TimeoutException"/> or
    /// <see cref="IOException"/> (with the system's words: "Connection refused").
    /// </summary>
    public static LinkSocket Connect(string host, int port, int timeoutMs, bool noDelay)
    {
        var addresses = IPAddress.TryParse(host, out var literal) ? new[] { literal } : Dns.GetHostAddresses(host);
        if (addresses.Length == 0)
            throw new IOException("Can't resolve " + host);
        Exception? last = null;
        foreach (var address in addresses)
        {
            if (address.AddressFamily is not (AddressFamily.InterNetwork or AddressFamily.InterNetworkV6))
                continue;
            int fd = Native.Socket(address.AddressFamily == AddressFamily.InterNetwork ? Native.AfInet : Native.AfInet6,
                Native.SockStream | Native.SockNonBlock | Native.SockCloexec, 0);
            if (fd < 0)
                throw new IOException("socket: " + Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError()));
            try
            {
                ConnectOne(fd, new IPEndPoint(address, port), timeoutMs);
            }
            catch (IOException e)
            {
                Native.Close(fd);
                last = e;
                continue;
            }
            catch
            {
                Native.Close(fd);
                throw;
            }
            if (noDelay)
                Native.SetOption(fd, Native.IpProtoTcp, Native.TcpNoDelay, 1);
            return new LinkSocket(fd, timeoutMs);
        }
        throw last ?? new IOException("No address of " + host + " to connect to");
    }

    private static void ConnectOne(int fd, IPEndPoint endPoint, int timeoutMs)
    {
        byte* address = stackalloc byte[32];
        int length = Native.WriteSockAddr(endPoint, address);
        if (Native.Connect(fd, address, length) < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != Native.EInProgress && errno != Native.EIntr)
                throw new IOException(Marshal.GetPInvokeErrorMessage(errno));
            if (!Native.WaitFor(fd, Native.PollOut, timeoutMs))
                throw new TimeoutException();
            int error = 0;
            int size = sizeof(int);
            Native.GetSockOpt(fd, Native.SolSocket, Native.SoError, &error, &size);
            if (error != 0)
                throw new IOException(Marshal.GetPInvokeErrorMessage(error));
        }
    }

    /// <summary>Bytes received and not consumed yet.</summary>
    public ReadOnlySpan<byte> Buffered => _buffer.AsSpan(_start, _end - _start);

    public void Consume(int count) => _start += count;

    /// <summary>
    /// Receives more bytes after <see cref="Buffered"/>, waiting at most <see cref="TimeoutMs"/>; false when the
    /// peer closed the connection (or it was aborted). The buffer holds at most 64 kB not consumed.
    /// </summary>
    public bool Fill()
    {
        if (_start == _end)
        {
            _start = _end = 0;
        }
        else if (_end == _buffer.Length)
        {
            if (_start == 0)
                throw new InvalidDataException("Reply line from master too long");
            Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        while (true)
        {
            nint n;
            fixed (byte* p = _buffer)
                n = Native.Recv(_fd, p + _end, _buffer.Length - _end, Native.MsgDontWait);
            if (n > 0)
            {
                _end += (int)n;
                return true;
            }
            if (n == 0)
                return false;
            AwaitReady(Native.PollIn);
        }
    }

    /// <summary>Sends all of <paramref name="bytes"/>, waiting at most <see cref="TimeoutMs"/> each time the socket takes nothing.</summary>
    public void Send(ReadOnlySpan<byte> bytes)
    {
        while (bytes.Length > 0)
        {
            nint n;
            fixed (byte* p = bytes)
                n = Native.Send(_fd, p, bytes.Length, Native.MsgDontWait | Native.MsgNoSignal);
            if (n > 0)
            {
                bytes = bytes[(int)n..];
                continue;
            }
            AwaitReady(Native.PollOut);
        }
    }

    /// <summary>
    /// After a non-blocking recv or send that moved nothing: returns at once for a retry when a signal
    /// interrupted it, waits up to <see cref="TimeoutMs"/> for the socket to become ready when it would have
    /// blocked, and throws for any other error (the link is then dropped and reconnected by its owner).
    /// </summary>
    private void AwaitReady(short events)
    {
        int errno = Marshal.GetLastPInvokeError();
        if (errno == Native.EIntr)
            return;
        if (errno != Native.EAgain)
            throw new IOException(Marshal.GetPInvokeErrorMessage(errno));
        if (!Native.WaitFor(_fd, events, TimeoutMs))
            throw new TimeoutException();
    }

    /// <summary>Shuts the connection down (any thread): the owner's current or next wait ends at once.</summary>
    public void Abort()
    {
        lock (_sync)
        {
            if (!_released)
                Native.Shutdown(_fd, Native.ShutRdWr);
        }
    }

    /// <summary>Gives the descriptor away (it is no longer closed here); what <see cref="Buffered"/> holds stays readable.</summary>
    internal int Detach()
    {
        lock (_sync)
        {
            _released = true;
            return _fd;
        }
    }

    public void Dispose()
    {
        lock (_sync)
        {
            if (_released)
                return;
            _released = true;
            Native.Close(_fd);
        }
    }
}
