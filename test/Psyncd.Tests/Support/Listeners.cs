using System.Net.Sockets;

namespace Psyncd.Tests.Support;

/// <summary>What the tests' own TCP servers (proxy, fake master) share.</summary>
public static class Listeners
{
    /// <summary>The next connection, with Nagle off; null once the listener is stopped or the token cancelled.</summary>
    public static async Task<TcpClient?> AcceptOrNullAsync(this TcpListener listener, CancellationToken token)
    {
        try
        {
            var tcp = await listener.AcceptTcpClientAsync(token);
            tcp.NoDelay = true;
            return tcp;
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
            return null;
        }
    }
}
