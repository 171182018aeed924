using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Psyncd.Tests.Support;

/// <summary>
/// A master played by the test, for stream shapes a real master never produces on demand (a transaction
/// split across reads, a command cut in two): it answers one replica's handshake, serves a full sync with
/// an empty RDB at offset 0, then sends exactly the stream bytes the test gives it. What the replica sends
/// after the handshake (its ACKs) is read and dropped.
/// </summary>
public sealed class ScriptedMaster : IDisposable
{
    /// <summary>An RDB with no key: header, EOF opcode, and a zero checksum (meaning "not computed").</summary>
    private static readonly byte[] s_emptyRdb = [.. "REDIS0006"u8, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0];

    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private TcpClient? _client;
    private NetworkStream? _stream;

    public ScriptedMaster()
    {
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
    }

    public int Port { get; }

    /// <summary>The replication id the full sync announced.</summary>
    public string ReplId { get; } = new string('a', 40);

    /// <summary>Accepts the replica and answers until its PSYNC, which gets +FULLRESYNC and the empty payload.</summary>
    public void AcceptAndFullSync(TimeSpan timeout)
    {
        var accept = _listener.AcceptTcpClientAsync();
        if (!accept.Wait(timeout))
            Assert.Fail("The replica did not connect within " + timeout.TotalSeconds + " s");
        _client = accept.Result;
        _client.NoDelay = true;
        _client.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        _stream = _client.GetStream();
        var reader = new BinaryReader(_stream, Encoding.Latin1, leaveOpen: true);
        while (true)
        {
            var command = ReadCommand(reader);
            string name = command[0].ToUpperInvariant();
            if (name == "PING")
                Send("+PONG\r\n"u8);
            else if (name == "PSYNC")
                break;
            else
                Send("+OK\r\n"u8);
        }
        Send(Encoding.ASCII.GetBytes("+FULLRESYNC " + ReplId + " 0\r\n$" + s_emptyRdb.Length + "\r\n"));
        Send(s_emptyRdb);
        // The replica's ACKs must not fill its socket buffer: read and drop them.
        var stream = _stream;
        _ = Task.Run(() =>
        {
            var sink = new byte[4096];
            try
            {
                while (stream.Read(sink) > 0)
                {
                }
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                // Disposed by the test.
            }
        });
    }

    /// <summary>Sends raw bytes to the replica (stream bytes, or replies during the handshake).</summary>
    public void Send(ReadOnlySpan<byte> bytes)
    {
        _stream!.Write(bytes);
        _stream.Flush();
    }

    private static List<string> ReadCommand(BinaryReader reader)
    {
        string header = ReadLine(reader);
        if (!header.StartsWith('*'))
            return [.. header.Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        int count = int.Parse(header.AsSpan(1));
        var args = new List<string>(count);
        for (int i = 0; i < count; i++)
        {
            int length = int.Parse(ReadLine(reader).AsSpan(1));
            args.Add(Encoding.Latin1.GetString(reader.ReadBytes(length)));
            ReadLine(reader);
        }
        return args;
    }

    private static string ReadLine(BinaryReader reader)
    {
        var sb = new StringBuilder();
        while (true)
        {
            char c = (char)reader.ReadByte();
            if (c == '\n')
                return sb.ToString().TrimEnd('\r');
            sb.Append(c);
        }
    }

    public void Dispose()
    {
        _client?.Dispose();
        _listener.Stop();
    }
}
