using System.Runtime.InteropServices;

namespace Psyncd.Network;

/// <summary>
/// The few libc calls of the server's own event loop (<see cref="EventLoop"/>): epoll, and non-blocking
/// accept, recv and send on the descriptors it owns; socket, connect and poll for the replica's link to its
/// master (<see cref="LinkSocket"/>).
/// </summary>
internal static unsafe partial class Native
{
    public const int EpollIn = 0x001;
    public const int EpollOut = 0x004;
    public const int EpollErr = 0x008;
    public const int EpollHup = 0x010;
    public const int EpollRdHup = 0x2000;

    public const int EpollCtlAdd = 1;
    public const int EpollCtlDel = 2;
    public const int EpollCtlMod = 3;

    public const int MsgDontWait = 0x40;
    public const int MsgNoSignal = 0x4000;

    public const int SockNonBlock = 0x800;
    public const int SockCloexec = 0x80000;

    public const int EfdNonBlock = 0x800;
    public const int EfdCloexec = 0x80000;

    public const int ShutRdWr = 2;

    public const int EAgain = 11;
    public const int EIntr = 4;
    public const int EInProgress = 115;
    public const int EConnReset = 104;

    public const int AfInet = 2;
    public const int AfInet6 = 10;
    public const int SockStream = 1;
    public const int SoError = 4;

    public const short PollIn = 0x001;
    public const short PollOut = 0x004;

    /// <summary>
    /// struct epoll_event is packed on x86-64 (12 bytes: events, then the 8-byte data at offset 4) and naturally
    /// aligned elsewhere (16 bytes, data at offset 8).
    /// </summary>
    public static readonly int EventSize = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 12 : 16;

    public static readonly int EventDataOffset = RuntimeInformation.ProcessArchitecture == Architecture.X64 ? 4 : 8;

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    public static partial int EpollCreate(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    public static partial int EpollCtl(int epfd, int op, int fd, byte* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    public static partial int EpollWait(int epfd, byte* events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "accept4", SetLastError = true)]
    public static partial int Accept(int fd, nint address, nint addressLength, int flags);

    [LibraryImport("libc", EntryPoint = "recv", SetLastError = true)]
    public static partial nint Recv(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "send", SetLastError = true)]
    public static partial nint Send(int fd, byte* buffer, nint length, int flags);

    [LibraryImport("libc", EntryPoint = "sendmsg", SetLastError = true)]
    public static partial nint SendMsg(int fd, byte* message, int flags);

    [LibraryImport("libc", EntryPoint = "getpeername", SetLastError = true)]
    public static partial int GetPeerName(int fd, byte* address, int* length);

    [LibraryImport("libc", EntryPoint = "getsockname", SetLastError = true)]
    public static partial int GetSockName(int fd, byte* address, int* length);

    [LibraryImport("libc", EntryPoint = "setsockopt", SetLastError = true)]
    public static partial int SetSockOpt(int fd, int level, int name, int* value, int length);

    [LibraryImport("libc", EntryPoint = "getsockopt", SetLastError = true)]
    public static partial int GetSockOpt(int fd, int level, int name, int* value, int* length);

    [LibraryImport("libc", EntryPoint = "socket", SetLastError = true)]
    public static partial int Socket(int domain, int type, int protocol);

    [LibraryImport("libc", EntryPoint = "connect", SetLastError = true)]
    public static partial int Connect(int fd, byte* address, int length);

    /// <summary>poll(2) on an array of struct pollfd (8 bytes each: int fd, short events, short revents).</summary>
    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    public static partial int Poll(byte* fds, nuint count, int timeout);

    [LibraryImport("libc", EntryPoint = "shutdown", SetLastError = true)]
    public static partial int Shutdown(int fd, int how);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "eventfd", SetLastError = true)]
    public static partial int EventFd(uint initial, int flags);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    public static partial nint Read(int fd, byte* buffer, nint length);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    public static partial nint Write(int fd, byte* buffer, nint length);

    public const int SolSocket = 1;
    public const int SoKeepAlive = 9;
    public const int SoReuseAddr = 2;
    public const int IpProtoTcp = 6;
    public const int TcpNoDelay = 1;
    public const int TcpKeepIdle = 4;
    public const int TcpKeepIntvl = 5;

    /// <summary>Sets an integer socket option (failures ignored, as for an option the socket does not have).</summary>
    public static void SetOption(int fd, int level, int name, int value) => SetSockOpt(fd, level, name, &value, sizeof(int));

    /// <summary>The peer's (or, with <paramref name="local"/>, our) address of a TCP socket; null for any other family.</summary>
    public static System.Net.IPEndPoint? EndPointOf(int fd, bool local)
    {
        byte* address = stackalloc byte[128];
        int length = 128;
        if ((local ? GetSockName(fd, address, &length) : GetPeerName(fd, address, &length)) < 0)
            return null;
        int family = *(ushort*)address;
        int port = (address[2] << 8) | address[3];
        if (family == 2) // AF_INET: family, port, 4 address bytes
            return new System.Net.IPEndPoint(new System.Net.IPAddress(new ReadOnlySpan<byte>(address + 4, 4)), port);
        if (family == 10) // AF_INET6: family, port, flow info, 16 address bytes, scope id
            return new System.Net.IPEndPoint(new System.Net.IPAddress(new ReadOnlySpan<byte>(address + 8, 16), *(uint*)(address + 24)), port);
        return null;
    }

    /// <summary>
    /// Waits up to <paramref name="timeoutMs"/> for <paramref name="events"/> (<see cref="PollIn"/>, <see cref="PollOut"/>) on one
    /// descriptor: true when it is ready (or failed: the next call says how), false when the time passed.
    /// </summary>
    public static bool WaitFor(int fd, short events, int timeoutMs)
    {
        byte* entry = stackalloc byte[8];
        *(int*)entry = fd;
        *(short*)(entry + 4) = events;
        *(short*)(entry + 6) = 0;
        while (true)
        {
            int n = Poll(entry, 1, timeoutMs);
            if (n >= 0)
                return n > 0;
            int errno = Marshal.GetLastPInvokeError();
            if (errno != EIntr)
                throw new IOException("poll failed: " + Marshal.GetPInvokeErrorMessage(errno));
        }
    }

    /// <summary>Writes <paramref name="endPoint"/> as a struct sockaddr_in or sockaddr_in6 into <paramref name="address"/> (28 bytes at least); returns its length.</summary>
    public static int WriteSockAddr(System.Net.IPEndPoint endPoint, byte* address)
    {
        new Span<byte>(address, 28).Clear();
        address[2] = (byte)(endPoint.Port >> 8);
        address[3] = (byte)endPoint.Port;
        if (endPoint.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
        {
            *(ushort*)address = AfInet;
            endPoint.Address.TryWriteBytes(new Span<byte>(address + 4, 4), out _);
            return 16;
        }
        *(ushort*)address = AfInet6;
        endPoint.Address.TryWriteBytes(new Span<byte>(address + 8, 16), out _);
        *(uint*)(address + 24) = (uint)endPoint.Address.ScopeId;
        return 28;
    }

    /// <summary>Registers or changes <paramref name="fd"/> in <paramref name="epfd"/> with <paramref name="events"/> and a token.</summary>
    public static int Control(int epfd, int op, int fd, int events, long token)
    {
        byte* ev = stackalloc byte[16];
        *(int*)ev = events;
        *(long*)(ev + EventDataOffset) = token;
        return EpollCtl(epfd, op, fd, ev);
    }
}
