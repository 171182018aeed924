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
}
