using System.Net.Sockets;
using System.Text;

namespace Psyncd.Tests.Support;

/// <summary>
/// A bare RESP client for tests that check exact reply bytes: sends requests (multibulk or raw bytes)
/// and reads replies whole, returning their exact text (Latin-1, so any byte survives).
/// </summary>
public sealed class RawClient : IDisposable
{
    private static readonly Encoding s_latin1 = Encoding.Latin1;
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    public RawClient(int port, TimeSpan? timeout = null)
        : this(port, from: null, timeout)
    {
    }

    /// <summary>
    /// Connects from the source address <paramref name="from"/>: 127.0.0.2 reaches 127.0.0.1 through the
    /// loopback interface yet is not a local client for Redis (only 127.0.0.1 and ::1 are).
    /// </summary>
    public RawClient(int port, string? from, TimeSpan? timeout = null)
    {
        _tcp = from is null
            ? new TcpClient { NoDelay = true }
            : new TcpClient(new System.Net.IPEndPoint(System.Net.IPAddress.Parse(from), 0)) { NoDelay = true };
        _tcp.Connect("127.0.0.1", port);
        _tcp.ReceiveTimeout = (int)(timeout ?? TimeSpan.FromSeconds(30)).TotalMilliseconds;
        _stream = _tcp.GetStream();
    }

    /// <summary>This end's TCP port (how the server's socket of this connection is found in /proc/net/tcp).</summary>
    public int LocalPort => ((System.Net.IPEndPoint)_tcp.Client.LocalEndPoint!).Port;

    /// <summary>Sends a command as a multibulk request and returns its reply's exact text.</summary>
    public string Command(params string[] args)
    {
        Send(args);
        return ReadReply();
    }

    /// <summary>Sends a command with binary arguments and returns its reply's exact text.</summary>
    public string Command(params byte[][] args)
    {
        SendRaw(Encode(args));
        return ReadReply();
    }

    public void Send(params string[] args) => SendRaw(Encode(args.Select(a => s_latin1.GetBytes(a)).ToArray()));

    public void SendRaw(string text) => SendRaw(s_latin1.GetBytes(text));

    public void SendRaw(byte[] bytes) => _stream.Write(bytes);

    public static byte[] Encode(byte[][] args)
    {
        var ms = new MemoryStream();
        void Write(string s) => ms.Write(s_latin1.GetBytes(s));
        Write("*" + args.Length + "\r\n");
        foreach (var arg in args)
        {
            Write("$" + arg.Length + "\r\n");
            ms.Write(arg);
            Write("\r\n");
        }
        return ms.ToArray();
    }

    /// <summary>Reads one whole reply (nested arrays included) and returns its exact text.</summary>
    public string ReadReply()
    {
        var sb = new StringBuilder();
        ReadValue(sb);
        return sb.ToString();
    }

    /// <summary>
    /// Reads one reply and parses it: string, long, null, RespError, or object?[] for arrays. RESP3's types fold
    /// into those: a double, boolean or big number is its text, a set or push an array, a map a flat array.
    /// </summary>
    public object? ReadValue()
    {
        var text = ReadReply();
        int pos = 0;
        return Parse(text, ref pos);
    }

    /// <summary>Sends a command and parses its reply.</summary>
    public object? Call(params string[] args)
    {
        Send(args);
        return ReadValue();
    }

    /// <summary>True when the server closed the connection (reads return nothing) within <paramref name="timeout"/>.</summary>
    public bool IsClosedByServer(TimeSpan timeout)
    {
        _tcp.ReceiveTimeout = (int)timeout.TotalMilliseconds;
        try
        {
            if (_end > _start)
                return false;
            return _stream.Read(_buffer, 0, _buffer.Length) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    private void ReadValue(StringBuilder sb)
    {
        string line = ReadLine();
        sb.Append(line).Append("\r\n");
        switch (line[0])
        {
            // RESP3's one-line types: null, double, boolean, big number.
            case '+' or '-' or ':' or '_' or ',' or '#' or '(':
                return;
            // Bulk-like: bulk string, verbatim string, bulk error.
            case '$' or '=' or '!':
            {
                int length = int.Parse(line.AsSpan(1));
                if (length < 0)
                    return;
                sb.Append(s_latin1.GetString(ReadExactly(length + 2)));
                return;
            }
            // Aggregates: array, set, push; a map or attribute has two values per entry.
            case '*' or '~' or '>' or '%' or '|':
            {
                int count = int.Parse(line.AsSpan(1));
                if (line[0] is '%' or '|')
                    count *= 2;
                for (int i = 0; i < count; i++)
                    ReadValue(sb);
                if (line[0] == '|')
                    ReadValue(sb); // an attribute precedes the reply it describes
                return;
            }
            default:
                throw new InvalidDataException("not a RESP reply: " + line);
        }
    }

    private static object? Parse(string text, ref int pos)
    {
        int eol = text.IndexOf("\r\n", pos, StringComparison.Ordinal);
        string line = text[pos..eol];
        pos = eol + 2;
        switch (line[0])
        {
            case '+':
                return line[1..];
            case '-':
                return new RespError(line[1..]);
            case ':':
                return long.Parse(line.AsSpan(1));
            case '_':
                return null;
            case ',' or '#' or '(':
                return line[1..];
            case '$' or '=' or '!':
            {
                int length = int.Parse(line.AsSpan(1));
                if (length < 0)
                    return null;
                string value = text.Substring(pos, length);
                pos += length + 2;
                return value;
            }
            default:
            {
                int count = int.Parse(line.AsSpan(1));
                if (count < 0)
                    return null;
                if (line[0] == '%')
                    count *= 2;
                var items = new object?[count];
                for (int i = 0; i < count; i++)
                    items[i] = Parse(text, ref pos);
                return items;
            }
        }
    }

    private string ReadLine()
    {
        while (true)
        {
            int nl = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (nl >= 0)
            {
                int end = nl > _start && _buffer[nl - 1] == '\r' ? nl - 1 : nl;
                string line = s_latin1.GetString(_buffer, _start, end - _start);
                _start = nl + 1;
                return line;
            }
            Fill();
        }
    }

    private byte[] ReadExactly(int count)
    {
        var result = new byte[count];
        int copied = 0;
        while (copied < count)
        {
            if (_start == _end)
                Fill();
            int n = Math.Min(count - copied, _end - _start);
            Array.Copy(_buffer, _start, result, copied, n);
            _start += n;
            copied += n;
        }
        return result;
    }

    private void Fill()
    {
        if (_start > 0)
        {
            Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
            _end -= _start;
            _start = 0;
        }
        if (_end == _buffer.Length)
            throw new InvalidDataException("reply line too long for the test client");
        int n = _stream.Read(_buffer, _end, _buffer.Length - _end);
        if (n == 0)
            throw new IOException("connection closed by the server");
        _end += n;
    }

    public void Dispose()
    {
        _stream.Dispose();
        _tcp.Dispose();
    }
}

/// <summary>An error reply, as <see cref="RawClient.ReadValue()"/> returns it.</summary>
public sealed record RespError(string Message)
{
    public override string ToString() => "-" + Message;
}
