using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Server;

/// <summary>
/// Buffer limits on clients, each checked on psyncd and on redis-server 7.0: client-output-buffer-limit for
/// normal clients (hard, and soft with its seconds), client-query-buffer-limit, proto-max-bulk-len. Each
/// test sets the limit it needs with CONFIG SET on both servers (tests of a fixture run one at a time).
/// </summary>
public class LimitTests : DifferentialFixture
{
    private IEnumerable<ServerProcess> Both => new[] { _psyncd, _redis };

    private static void ConfigSet(ServerProcess server, string name, string value)
    {
        using var c = server.Connect();
        Assert.That(c.Command("CONFIG", "SET", name, value), Is.EqualTo("+OK\r\n"), server.Name + ": " + name);
    }

    private const string OutputLimitLine = @"Client id=\d+ addr=127\.0\.0\.1:\d+ laddr=127\.0\.0\.1:\d+ fd=\d+ name=flood .* cmd=get .*scheduled to be closed ASAP for overcoming of output buffer limits\.";

    /// <summary>Writes <paramref name="count"/> GETs of <paramref name="key"/> in one go, without reading a reply.</summary>
    private static void PipelineGets(Socket socket, string key, int count)
    {
        var one = RawClient.Encode(new[] { "GET"u8.ToArray(), Encoding.ASCII.GetBytes(key) });
        var all = new byte[one.Length * count];
        for (int i = 0; i < count; i++)
            one.CopyTo(all, i * one.Length);
        socket.Send(all);
    }

    /// <summary>Reads until the server closes the connection; returns the bytes read.</summary>
    private static long ReadUntilClosed(Socket socket, TimeSpan timeout)
    {
        socket.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        var buffer = new byte[256 * 1024];
        long total = 0;
        try
        {
            while (true)
            {
                int n = socket.Receive(buffer);
                if (n == 0)
                    return total;
                total += n;
            }
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionReset)
        {
            return total;
        }
    }

    private static Socket Flooder(ServerProcess server)
    {
        // A small fixed receive buffer (no autotuning up to tcp_rmem's 32 MB here): the replies the client does
        // not read stay in the server, as they would with a slow client across a network.
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true, ReceiveBufferSize = 64 * 1024 };
        socket.Connect("127.0.0.1", server.Port);
        socket.Send(RawClient.Encode(new[] { "CLIENT"u8.ToArray(), "SETNAME"u8.ToArray(), "flood"u8.ToArray() }));
        return socket;
    }

    [Test]
    public void ANormalClientOverTheHardLimitIsClosed()
    {
        const int gets = 20000;
        var value = new string('v', 1024);
        foreach (var server in Both)
        {
            ConfigSet(server, "client-output-buffer-limit", "normal 1mb 0 0");
            try
            {
                using (var c = server.Connect())
                    c.Command("SET", "limit:hard", value);
                using var socket = Flooder(server);
                PipelineGets(socket, "limit:hard", gets);
                // The client reads nothing until the server has given up on it: its replies (20 MB) can't all
                // fit in the kernel's socket buffers, so they pile up in the server's output.
                using var observer = server.Connect();
                Eventually.True(() => !((string)observer.Call("CLIENT", "LIST")!).Contains("name=flood"),
                    TimeSpan.FromSeconds(30), server.Name + " closed the client over its hard limit");
                long read = ReadUntilClosed(socket, TimeSpan.FromSeconds(30));
                Assert.That(read, Is.LessThan(gets * 1024L / 2), server.Name + " stopped the client long before all its replies");
                Eventually.True(() => Regex.IsMatch(server.Output, OutputLimitLine), TimeSpan.FromSeconds(10), server.Name + " logged the disconnect as Redis does");
                using var other = server.Connect();
                Assert.That(other.Command("PING"), Is.EqualTo("+PONG\r\n"));
            }
            finally
            {
                ConfigSet(server, "client-output-buffer-limit", "normal 0 0 0");
            }
        }
    }

    [Test]
    public void ANormalClientOverTheSoftLimitIsClosedOnceItsSecondsHavePassed()
    {
        var value = new string('s', 1024);
        foreach (var server in Both)
        {
            ConfigSet(server, "client-output-buffer-limit", "normal 0 2mb 1");
            try
            {
                using (var c = server.Connect())
                    c.Command("SET", "limit:soft", value);
                using var socket = Flooder(server);
                var watch = Stopwatch.StartNew();
                PipelineGets(socket, "limit:soft", 20000);
                // Redis checks the limit only when output grows, so a GET now and then lets it see the time pass.
                using var observer = server.Connect();
                Eventually.True(() =>
                {
                    try
                    {
                        PipelineGets(socket, "limit:soft", 1);
                    }
                    catch (SocketException)
                    {
                        // Already closed.
                    }
                    return !((string)observer.Call("CLIENT", "LIST")!).Contains("name=flood");
                }, TimeSpan.FromSeconds(30), server.Name + " closed the client over its soft limit");
                Assert.That(watch.Elapsed, Is.GreaterThan(TimeSpan.FromSeconds(0.9)), server.Name + " waited for the soft limit's seconds");
                Eventually.True(() => Regex.IsMatch(server.Output, OutputLimitLine), TimeSpan.FromSeconds(10), server.Name + " logged the disconnect as Redis does");
            }
            finally
            {
                ConfigSet(server, "client-output-buffer-limit", "normal 0 0 0");
            }
        }
    }

    [Test]
    public void AClientOverTheQueryBufferLimitIsClosedWithoutAReply()
    {
        foreach (var server in Both)
        {
            ConfigSet(server, "client-query-buffer-limit", "1mb");
            try
            {
                using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                socket.Connect("127.0.0.1", server.Port);
                socket.Send(Encoding.ASCII.GetBytes("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n"));
                var chunk = new byte[64 * 1024];
                Array.Fill(chunk, (byte)'q');
                try
                {
                    for (int sent = 0; sent < 1536 * 1024; sent += chunk.Length)
                        socket.Send(chunk);
                }
                catch (SocketException)
                {
                    // Closed while sending: what is asserted below.
                }
                Assert.That(ReadUntilClosed(socket, TimeSpan.FromSeconds(30)), Is.EqualTo(0), server.Name + " closes without a reply");
                Eventually.True(() => server.Output.Contains("Closing client that reached max query buffer length: id="),
                    TimeSpan.FromSeconds(10), server.Name + " logged it as Redis does");
            }
            finally
            {
                ConfigSet(server, "client-query-buffer-limit", "1gb");
            }
        }
    }

    [Test]
    public void ProtoMaxBulkLenRefusesLargerArguments()
    {
        string[][] settings =
        {
            new[] { "CONFIG", "SET", "proto-max-bulk-len", "1000" },
            new[] { "CONFIG", "SET", "proto-max-bulk-len", "-1" },
            new[] { "CONFIG", "SET", "client-query-buffer-limit", "1048575" },
            new[] { "CONFIG", "GET", "proto-max-bulk-len" },
            new[] { "CONFIG", "GET", "client-query-buffer-limit" },
        };
        using (var p = _psyncd.Connect())
        using (var r = _redis.Connect())
        {
            foreach (var command in settings)
                Assert.That(p.Command(command), Is.EqualTo(r.Command(command)), string.Join(' ', command));
        }
        var replies = new List<string>();
        foreach (var server in Both)
        {
            ConfigSet(server, "proto-max-bulk-len", "1mb");
            try
            {
                using var c = server.Connect();
                c.SendRaw("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1048577\r\n");
                replies.Add(c.ReadReply());
                Assert.That(c.IsClosedByServer(TimeSpan.FromSeconds(10)), Is.True, server.Name + " closes after the protocol error");
                using var ok = server.Connect();
                Assert.That(ok.Command("SET", "limit:bulk", new string('b', 1024 * 1024)), Is.EqualTo("+OK\r\n"), "exactly the limit is accepted");
            }
            finally
            {
                ConfigSet(server, "proto-max-bulk-len", "512mb");
            }
        }
        Assert.That(replies, Is.EqualTo(new[] { "-ERR Protocol error: invalid bulk length\r\n", "-ERR Protocol error: invalid bulk length\r\n" }));
    }
}
