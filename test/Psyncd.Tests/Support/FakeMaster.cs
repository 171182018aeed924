using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Psyncd.Tests.Support;

/// <summary>
/// A scripted master on 127.0.0.1 for the replica's handshake, PSYNC and payload paths, including the
/// broken ones no real master produces on demand (corrupt or truncated payloads, odd replies, a link cut
/// at any byte). Each connection a replica makes runs <c>script</c> with a <see cref="FakeMasterSession"/>
/// and the connection's number (0 for the first); when the script returns, the connection is closed.
/// </summary>
public sealed class FakeMaster : IDisposable
{
    private readonly TcpListener _listener;
    private readonly Func<FakeMasterSession, int, Task> _script;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<FakeMasterSession> _sessions = new();
    private readonly List<Task> _running = new();
    private readonly Task _accepting;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public FakeMaster(Func<FakeMasterSession, int, Task> script)
    {
        _script = script;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    /// <summary>When each connection was accepted, since this master started.</summary>
    public IReadOnlyList<TimeSpan> ConnectedAt
    {
        get
        {
            lock (_sessions)
                return _sessions.Select(s => s.ConnectedAt).ToList();
        }
    }

    /// <summary>Connections accepted so far.</summary>
    public int Connections
    {
        get
        {
            lock (_sessions)
                return _sessions.Count;
        }
    }

    /// <summary>The first failure of a script (an assertion or I/O it did not expect), or null.</summary>
    public Exception? ScriptError { get; private set; }

    private async Task AcceptAsync()
    {
        while (await _listener.AcceptOrNullAsync(_stop.Token) is { } tcp)
        {
            lock (_sessions)
            {
                var session = new FakeMasterSession(tcp, _clock.Elapsed, _stop.Token);
                _running.Add(RunAsync(session, _sessions.Count));
                _sessions.Add(session);
            }
        }
    }

    private async Task RunAsync(FakeMasterSession session, int number)
    {
        try
        {
            await _script(session, number);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
        {
            // The replica went away, or the master was disposed: the script ends with the connection.
        }
        catch (Exception e)
        {
            ScriptError ??= e;
        }
        finally
        {
            session.Dispose();
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        Task[] running;
        lock (_sessions)
        {
            foreach (var session in _sessions)
                session.Dispose();
            running = _running.ToArray();
        }
        try
        {
            Task.WaitAll(running.Append(_accepting).ToArray(), TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
            // Cancelled.
        }
    }

    /// <summary>
    /// A minimal RDB (version 6, checksum 0 = not checked) of string keys, all in database 0: what a full
    /// sync's payload needs to hold for a replica to have something to serve.
    /// </summary>
    public static byte[] Rdb(IEnumerable<(string Key, string Value)> keys) => RdbBuilder.Start().Strings(keys).End();
}

/// <summary>Writes an RDB by hand, piece by piece, so a test can put a bad or unsupported record anywhere.</summary>
public sealed class RdbBuilder
{
    private readonly MemoryStream _bytes = new();

    public static RdbBuilder Start(int version = 6)
    {
        var builder = new RdbBuilder();
        builder.Raw(Encoding.ASCII.GetBytes("REDIS" + version.ToString("D4")));
        builder.Raw(0xFE, 0x00);
        return builder;
    }

    public RdbBuilder Raw(params byte[] bytes)
    {
        _bytes.Write(bytes);
        return this;
    }

    /// <summary>A string encoded with a 6- or 14-bit length (up to 16383 bytes), as short keys are.</summary>
    public RdbBuilder String(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length < 64)
            Raw((byte)bytes.Length);
        else
            Raw((byte)(0x40 | (bytes.Length >> 8)), (byte)bytes.Length);
        return Raw(bytes);
    }

    public RdbBuilder Strings(IEnumerable<(string Key, string Value)> keys)
    {
        foreach (var (key, value) in keys)
            Raw(0x00).String(key).String(value);
        return this;
    }

    /// <summary>The EOF opcode and a zero checksum (which loaders do not check).</summary>
    public byte[] End()
    {
        Raw(0xFF, 0, 0, 0, 0, 0, 0, 0, 0);
        return _bytes.ToArray();
    }

    /// <summary>The bytes so far, without EOF (a truncated RDB).</summary>
    public byte[] Cut() => _bytes.ToArray();
}

/// <summary>One replica connection to a <see cref="FakeMaster"/>: read what the replica sends, answer anything.</summary>
public sealed class FakeMasterSession : IDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly CancellationToken _token;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    internal FakeMasterSession(TcpClient tcp, TimeSpan connectedAt, CancellationToken token)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
        ConnectedAt = connectedAt;
        _token = token;
    }

    public TimeSpan ConnectedAt { get; }

    /// <summary>Every command the replica sent on this connection, in order.</summary>
    public List<string[]> Received { get; } = new();

    /// <summary>Reads the next command (multibulk or inline); fails if the replica closes first.</summary>
    public async Task<string[]> ReadCommandAsync()
    {
        string line = await ReadLineAsync();
        string[] command;
        if (line.StartsWith('*'))
        {
            int count = int.Parse(line.AsSpan(1));
            command = new string[count];
            for (int i = 0; i < count; i++)
            {
                string header = await ReadLineAsync();
                if (!header.StartsWith('$'))
                    throw new InvalidDataException("expected a bulk header, got '" + header + "'");
                int length = int.Parse(header.AsSpan(1));
                var bytes = await ReadExactlyAsync(length + 2);
                command[i] = Encoding.Latin1.GetString(bytes, 0, length);
            }
        }
        else
        {
            command = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        }
        Received.Add(command);
        return command;
    }

    /// <summary>
    /// Answers a replica's handshake as redis-server does (+PONG to PING, +OK to AUTH and REPLCONF) until
    /// it sends PSYNC or SYNC, and returns that command, unanswered.
    /// </summary>
    public async Task<string[]> HandshakeAsync()
    {
        while (true)
        {
            var command = await ReadCommandAsync();
            switch (command[0].ToUpperInvariant())
            {
                case "PING":
                    await SendAsync("+PONG\r\n");
                    break;
                case "AUTH":
                case "REPLCONF":
                    await SendAsync("+OK\r\n");
                    break;
                case "PSYNC":
                case "SYNC":
                    return command;
                default:
                    throw new InvalidDataException("unexpected command in the handshake: " + string.Join(' ', command));
            }
        }
    }

    /// <summary>+FULLRESYNC with <paramref name="replId"/> and <paramref name="offset"/>, then the payload as $len and its bytes.</summary>
    public async Task FullResyncAsync(string replId, long offset, byte[] payload)
    {
        await SendAsync("+FULLRESYNC " + replId + " " + offset + "\r\n");
        await SendPayloadAsync(payload);
    }

    /// <summary>A payload framed with its length, as a disk-based master sends it: <c>$len\r\n</c> and the bytes.</summary>
    public async Task SendPayloadAsync(byte[] payload, int? announcedLength = null)
    {
        await SendAsync("$" + (announcedLength ?? payload.Length) + "\r\n");
        await SendAsync(payload);
    }

    public Task SendAsync(string text) => SendAsync(Encoding.Latin1.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes, _token);
        await _stream.FlushAsync(_token);
    }

    /// <summary>Sends a command of the replication stream (multibulk), as the master applies it.</summary>
    public Task SendCommandAsync(params string[] args) => SendAsync(RawClient.Encode(args.Select(a => Encoding.Latin1.GetBytes(a)).ToArray()));

    /// <summary>Waits until the replica closes the connection (reading and recording whatever it sends, e.g. ACKs).</summary>
    public async Task WaitForCloseAsync()
    {
        try
        {
            while (true)
                await ReadCommandAsync();
        }
        catch (IOException)
        {
            // Closed.
        }
    }

    private async Task<string> ReadLineAsync()
    {
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                string line = Encoding.Latin1.GetString(_buffer, _start, newline - _start).TrimEnd('\r');
                _start = newline + 1;
                return line;
            }
            await FillAsync();
        }
    }

    private async Task<byte[]> ReadExactlyAsync(int count)
    {
        var result = new byte[count];
        int done = 0;
        while (done < count)
        {
            if (_start == _end)
                await FillAsync();
            int take = Math.Min(count - done, _end - _start);
            Array.Copy(_buffer, _start, result, done, take);
            _start += take;
            done += take;
        }
        return result;
    }

    private async Task FillAsync()
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
            throw new InvalidDataException("line longer than " + _buffer.Length + " bytes");
        int n = await _stream.ReadAsync(_buffer.AsMemory(_end), _token);
        if (n == 0)
            throw new IOException("the replica closed the connection");
        _end += n;
    }

    /// <summary>Closes at once with a reset, as a cut link would.</summary>
    public void Reset()
    {
        try
        {
            _tcp.Client.LingerState = new LingerOption(true, 0);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            // Already closed.
        }
        _tcp.Dispose();
    }

    public void Dispose() => _tcp.Dispose();
}
