using System.Net;
using System.Net.Sockets;

namespace Psyncd.Tests.Support;

/// <summary>Ports nobody listens on, for servers started by tests.</summary>
public static class FreePort
{
    private static readonly object s_gate = new();
    private static readonly HashSet<int> s_handedOut = new();

    /// <summary>A port the OS says is free on 127.0.0.1 and that no other test of this run was given.</summary>
    public static int Next()
    {
        lock (s_gate)
        {
            for (int attempt = 0; attempt < 100; attempt++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                int port = ((IPEndPoint)listener.LocalEndpoint).Port;
                listener.Stop();
                if (s_handedOut.Add(port))
                    return port;
            }
            throw new InvalidOperationException("no free port");
        }
    }
    /// <summary>
    /// The first of <paramref name="count"/> consecutive free ports, for a script that lays out its own ports
    /// from a base (scripts/deploy-local). Taken below Linux's ephemeral range (32768 and up), where outgoing
    /// connections never land, and above the ports people run servers on by hand.
    /// </summary>
    public static int Range(int count)
    {
        lock (s_gate)
        {
            for (int attempt = 0; attempt < 200; attempt++)
            {
                int first = Random.Shared.Next(26000, 32700 - count);
                if (Enumerable.Range(first, count).All(p => !s_handedOut.Contains(p) && IsFree(p)))
                {
                    for (int p = first; p < first + count; p++)
                        s_handedOut.Add(p);
                    return first;
                }
            }
            throw new InvalidOperationException("no " + count + " consecutive free ports");
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
