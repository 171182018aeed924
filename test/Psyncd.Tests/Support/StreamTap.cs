using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace Psyncd.Tests.Support;

/// <summary>
/// What a master propagates, read as a replica reads it: a connection says SYNC, skips the payload, then
/// collects the stream while a client runs commands, up to the closing command's marker. Used to compare
/// psyncd's stream with redis-server's byte for byte.
/// </summary>
public static class StreamTap
{
    /// <summary>
    /// Attaches a fake replica, runs <paramref name="commands"/> then <c>SET tap:end 1</c>, and returns the stream
    /// after the payload up to that SET, as Latin-1 text, without the master's PINGs (their timing is the
    /// server's own) and with 13-digit absolute times (PEXPIREAT's) written <c>&lt;unix ms&gt;</c>.
    /// </summary>
    public static string Capture(ServerProcess server, IEnumerable<string[]> commands)
    {
        using var tcp = new TcpClient("127.0.0.1", server.Port);
        tcp.ReceiveTimeout = 30_000;
        var stream = tcp.GetStream();
        stream.Write("*1\r\n$4\r\nSYNC\r\n"u8);
        var latin1 = Encoding.Latin1;
        var received = new List<byte>();
        var buffer = new byte[65536];
        // The payload: "$<len>\r\n" then <len> bytes (newlines may come first while the snapshot is made).
        int payloadEnd = -1;
        while (payloadEnd < 0)
        {
            int n = stream.Read(buffer);
            Assert.That(n, Is.GreaterThan(0), "the master closed the link");
            received.AddRange(buffer.AsSpan(0, n).ToArray());
            string text = latin1.GetString(received.ToArray());
            int dollar = text.IndexOf('$');
            int lineEnd = dollar < 0 ? -1 : text.IndexOf("\r\n", dollar, StringComparison.Ordinal);
            if (lineEnd > 0 && received.Count >= lineEnd + 2 + int.Parse(text[(dollar + 1)..lineEnd]))
                payloadEnd = lineEnd + 2 + int.Parse(text[(dollar + 1)..lineEnd]);
        }
        received.RemoveRange(0, payloadEnd);

        using (var client = server.Connect())
        {
            foreach (var command in commands)
                client.Command(command);
            client.Command("SET", "tap:end", "1");
        }
        while (!latin1.GetString(received.ToArray()).Contains("tap:end"))
        {
            int n = stream.Read(buffer);
            Assert.That(n, Is.GreaterThan(0), "the master closed the link");
            received.AddRange(buffer.AsSpan(0, n).ToArray());
        }
        // Redis 7 writes its replication PING in lower case, older servers in upper case.
        string captured = latin1.GetString(received.ToArray()).Replace("*1\r\n$4\r\nPING\r\n", "").Replace("*1\r\n$4\r\nping\r\n", "");
        return Regex.Replace(captured, "\\$13\r\n\\d{13}\r\n", "$13\r\n<unix ms>\r\n");
    }
}
