using System.Buffers.Text;
using System.Runtime.CompilerServices;

namespace Psyncd.Protocol;

/// <summary>Outcome of parsing one request.</summary>
public enum ParseStatus
{
    /// <summary>A whole request was parsed; its arguments are in <see cref="RequestParser.Args"/>.</summary>
    Complete,

    /// <summary>The buffer ends inside a request: wait for more bytes, consume nothing.</summary>
    Incomplete,

    /// <summary>The bytes are not RESP: reply <see cref="RequestParser.Error"/> and close the connection.</summary>
    Error,
}

/// <summary>
/// Parses client requests, in both of Redis's forms: multibulk (<c>*2\r\n$3\r\nGET\r\n$1\r\nk\r\n</c>)
/// and inline (<c>GET k\r\n</c>, split like redis-cli splits a line, quotes included).
/// </summary>
/// <remarks>
/// One parser per connection; it keeps no state between requests, so an incomplete request is simply
/// parsed again from its first byte when more data has arrived. To keep that cheap for large bulk
/// arguments, an incomplete parse reports in <see cref="MinimumBytesNeeded"/> how many bytes the request
/// needs at least, and the connection does not try again before it has them.
/// Error texts are redis-server's own (networking.c, processMultibulkBuffer / processInlineBuffer).
/// </remarks>
public sealed class RequestParser
{
    private ArgSlice[] _args = new ArgSlice[16];
    private int _argCount;
    private byte[] _inlineScratch = new byte[256];

    /// <summary>Arguments of the request last parsed with <see cref="ParseStatus.Complete"/>.</summary>
    public ReadOnlySpan<ArgSlice> Args => _args.AsSpan(0, _argCount);

    /// <summary>True when the last request was inline: its arguments index <see cref="InlineBuffer"/>, not the input.</summary>
    public bool LastWasInline { get; private set; }

    /// <summary>Unescaped arguments of the last inline request.</summary>
    public ReadOnlySpan<byte> InlineBuffer => _inlineScratch;

    /// <summary>After <see cref="ParseStatus.Incomplete"/>: bytes from the request's start known to be needed (0 when unknown).</summary>
    public long MinimumBytesNeeded { get; private set; }

    /// <summary>After <see cref="ParseStatus.Error"/>: the error reply's text, e.g. <c>Protocol error: invalid bulk length</c>.</summary>
    public string? Error { get; private set; }

    /// <summary>Largest bulk argument accepted (<c>proto-max-bulk-len</c>); set by the server before parsing.</summary>
    public long MaxBulkLength { get; set; } = RespLimits.MaxBulkLength;

    /// <summary>
    /// True while the client has yet to AUTH: a multibulk may then hold at most
    /// <see cref="RespLimits.MaxUnauthenticatedArgs"/> arguments of at most
    /// <see cref="RespLimits.MaxUnauthenticatedBulk"/> bytes each, so a peer without the password cannot
    /// make the server wait for (and buffer) a large request.
    /// </summary>
    public bool Unauthenticated { get; set; }

    /// <summary>
    /// Parses one request from the start of <paramref name="input"/>. On <see cref="ParseStatus.Complete"/>
    /// <paramref name="consumed"/> is the request's length in bytes. A request with no arguments (an empty
    /// inline line, <c>*0</c> or <c>*-1</c>) completes with zero arguments and must be skipped by the caller.
    /// </summary>
    public ParseStatus TryParse(ReadOnlySpan<byte> input, out int consumed)
    {
        consumed = 0;
        _argCount = 0;
        MinimumBytesNeeded = 0;
        if (input.IsEmpty)
            return ParseStatus.Incomplete;
        if (input[0] == (byte)'*')
        {
            LastWasInline = false;
            return ParseMultibulk(input, out consumed);
        }
        LastWasInline = true;
        return ParseInline(input, out consumed);
    }

    /// <summary>Splits one line as an inline request (used for config lines); false when its quotes are unbalanced.</summary>
    public bool TrySplitLine(ReadOnlySpan<byte> line)
    {
        _argCount = 0;
        LastWasInline = true;
        return SplitInline(line);
    }

    private ParseStatus ParseMultibulk(ReadOnlySpan<byte> input, out int consumed)
    {
        consumed = 0;
        int lineEnd = input.IndexOf((byte)'\r');
        if (lineEnd < 0)
        {
            if (input.Length > RespLimits.MaxInlineSize)
                return Fail("Protocol error: too big mbulk count string");
            return ParseStatus.Incomplete;
        }
        if (lineEnd + 1 >= input.Length)
            return ParseStatus.Incomplete; // the '\n' has not arrived yet
        if (!TryParseLength(input[1..lineEnd], out long count) || count > RespLimits.MaxMultibulkLength)
            return Fail("Protocol error: invalid multibulk length");
        if (count > RespLimits.MaxUnauthenticatedArgs && Unauthenticated)
            return Fail("Protocol error: unauthenticated multibulk length");

        int pos = lineEnd + 2;
        if (count <= 0)
        {
            consumed = pos;
            return ParseStatus.Complete;
        }
        if (count > _args.Length)
            Array.Resize(ref _args, (int)Math.Max(count, _args.Length * 2L));

        for (int i = 0; i < count; i++)
        {
            if (pos >= input.Length)
            {
                MinimumBytesNeeded = pos + 4;
                return ParseStatus.Incomplete;
            }
            if (input[pos] != (byte)'$')
                return Fail($"Protocol error: expected '$', got '{(char)input[pos]}'");
            if (!TryReadShortLength(input, pos + 1, out int headerEnd, out long length))
            {
                headerEnd = input[pos..].IndexOf((byte)'\r');
                if (headerEnd < 0)
                {
                    if (input.Length - pos > RespLimits.MaxInlineSize)
                        return Fail("Protocol error: too big bulk count string");
                    return ParseStatus.Incomplete;
                }
                headerEnd += pos;
                if (!TryParseLength(input[(pos + 1)..headerEnd], out length))
                    return Fail("Protocol error: invalid bulk length");
            }
            if (headerEnd + 1 >= input.Length)
                return ParseStatus.Incomplete;
            if (length < 0 || length > MaxBulkLength)
                return Fail("Protocol error: invalid bulk length");
            if (length > RespLimits.MaxUnauthenticatedBulk && Unauthenticated)
                return Fail("Protocol error: unauthenticated bulk length");
            int dataStart = headerEnd + 2;
            // Like redis-server, the two bytes after the data are skipped without being checked.
            long dataEnd = dataStart + length + 2;
            if (dataEnd > input.Length)
            {
                MinimumBytesNeeded = dataEnd;
                return ParseStatus.Incomplete;
            }
            _args[_argCount++] = new ArgSlice(dataStart, (int)length);
            pos = (int)dataEnd;
        }
        consumed = pos;
        return ParseStatus.Complete;
    }

    private ParseStatus ParseInline(ReadOnlySpan<byte> input, out int consumed)
    {
        consumed = 0;
        int newline = input.IndexOf((byte)'\n');
        if (newline < 0)
        {
            if (input.Length > RespLimits.MaxInlineSize)
                return Fail("Protocol error: too big inline request");
            return ParseStatus.Incomplete;
        }
        consumed = newline + 1;
        var line = input[..newline];
        if (!line.IsEmpty && line[^1] == (byte)'\r')
            line = line[..^1];
        if (!SplitInline(line))
        {
            consumed = 0;
            return Fail("Protocol error: unbalanced quotes in request");
        }
        return ParseStatus.Complete;
    }

    /// <summary>
    /// Splits an inline line into arguments the way redis-cli and redis-server split one (sdssplitargs):
    /// blanks separate arguments; "double quotes" understand \n \r \t \b \a \\ \" and \xHH;
    /// 'single quotes' understand \'; a closing quote must be followed by a blank or the end.
    /// </summary>
    private bool SplitInline(ReadOnlySpan<byte> line)
    {
        if (_inlineScratch.Length < line.Length)
            _inlineScratch = new byte[Math.Max(line.Length, _inlineScratch.Length * 2)];
        var output = _inlineScratch.AsSpan();
        int written = 0;
        int p = 0;
        while (true)
        {
            while (p < line.Length && IsBlank(line[p]))
                p++;
            if (p >= line.Length)
                return true;

            int start = written;
            bool inDouble = false, inSingle = false, done = false;
            while (!done)
            {
                if (inDouble)
                {
                    if (p >= line.Length)
                        return false;
                    byte c = line[p];
                    if (c == '\\' && p + 3 < line.Length && line[p + 1] == 'x' && IsHex(line[p + 2]) && IsHex(line[p + 3]))
                    {
                        output[written++] = (byte)(HexValue(line[p + 2]) * 16 + HexValue(line[p + 3]));
                        p += 3;
                    }
                    else if (c == '\\' && p + 1 < line.Length)
                    {
                        p++;
                        output[written++] = line[p] switch
                        {
                            (byte)'n' => (byte)'\n',
                            (byte)'r' => (byte)'\r',
                            (byte)'t' => (byte)'\t',
                            (byte)'b' => (byte)'\b',
                            (byte)'a' => (byte)'\a',
                            _ => line[p],
                        };
                    }
                    else if (c == '"')
                    {
                        if (p + 1 < line.Length && !IsBlank(line[p + 1]))
                            return false;
                        done = true;
                    }
                    else
                    {
                        output[written++] = c;
                    }
                }
                else if (inSingle)
                {
                    if (p >= line.Length)
                        return false;
                    byte c = line[p];
                    if (c == '\\' && p + 1 < line.Length && line[p + 1] == '\'')
                    {
                        p++;
                        output[written++] = (byte)'\'';
                    }
                    else if (c == '\'')
                    {
                        if (p + 1 < line.Length && !IsBlank(line[p + 1]))
                            return false;
                        done = true;
                    }
                    else
                    {
                        output[written++] = c;
                    }
                }
                else if (p >= line.Length)
                {
                    done = true;
                }
                else
                {
                    byte c = line[p];
                    switch (c)
                    {
                        case (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or 0:
                            done = true;
                            break;
                        case (byte)'"':
                            inDouble = true;
                            break;
                        case (byte)'\'':
                            inSingle = true;
                            break;
                        default:
                            output[written++] = c;
                            break;
                    }
                }
                if (p < line.Length)
                    p++;
            }
            if (_argCount == _args.Length)
                Array.Resize(ref _args, _args.Length * 2);
            _args[_argCount++] = new ArgSlice(start, written - start);
        }
    }

    private static bool IsBlank(byte c) => c is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t' or 0;

    private static bool IsHex(byte c) => c is >= (byte)'0' and <= (byte)'9' or >= (byte)'a' and <= (byte)'f' or >= (byte)'A' and <= (byte)'F';

    private static int HexValue(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    /// <summary>
    /// Parses a length the way redis-server's string2ll does: optional '-', no '+', no blanks,
    /// no leading zeros, and it must fit in a long.
    /// </summary>
    /// <summary>
    /// The common bulk header, read digit by digit: one to nine digits, no leading zero, then '\r'. Most lengths are
    /// a few digits, and a vectorized search for the '\r' followed by a parse cost more than the digits themselves
    /// (MSET's 21 headers: docs/performance.md). Anything else (a sign, a leading zero, a long or incomplete number)
    /// returns false and takes the general path, which gives every error redis-server gives.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryReadShortLength(ReadOnlySpan<byte> input, int start, out int headerEnd, out long length)
    {
        length = 0;
        int end = Math.Min(input.Length, start + 10);
        int i = start;
        for (; i < end; i++)
        {
            uint digit = (uint)(input[i] - '0');
            if (digit > 9)
                break;
            length = length * 10 + digit;
        }
        headerEnd = i;
        int digits = i - start;
        return digits > 0 && digits < 10 && i < input.Length && input[i] == (byte)'\r' && (digits == 1 || input[start] != (byte)'0');
    }

    internal static bool TryParseLength(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text[0] == (byte)'+' || text.Length > 20)
            return false;
        if (text.Length > 1 && (text[0] == (byte)'0' || (text[0] == (byte)'-' && text[1] == (byte)'0')))
            return false;
        return Utf8Parser.TryParse(text, out value, out int used) && used == text.Length;
    }

    private ParseStatus Fail(string message)
    {
        Error = message;
        _argCount = 0;
        return ParseStatus.Error;
    }
}
