using System.Text;

namespace Psyncd.Torture;

/// <summary>
/// Follows the bytes a master sends through a link's proxy and fires once a full sync's payload is a
/// chosen fraction through: after <c>+FULLRESYNC</c>, the newlines a master sends while it prepares the
/// snapshot, then <c>$&lt;length&gt;</c> (a file) or <c>$EOF:&lt;mark&gt;</c> (diskless). It fires on the chunk that
/// crosses the point, before that chunk is forwarded, so the replica holds part of the payload only.
/// Used as <see cref="Psyncd.Tests.Support.TcpProxy.InspectFromTarget"/>.
/// </summary>
public sealed class FullSyncWatch
{
    private static readonly byte[] s_fullResync = "+FULLRESYNC"u8.ToArray();
    private readonly double _fraction;
    private readonly int _disklessBytes;
    private readonly bool _cut;
    private readonly ManualResetEventSlim _fired = new();
    private State _state = State.SeekFullResync;
    private int _matched;
    private readonly StringBuilder _header = new();
    private long _threshold;
    private long _payloadSeen;
    private byte[]? _eofMark;
    private readonly Queue<byte> _tail = new();

    private enum State
    {
        SeekFullResync,
        FullResyncLine,
        SeekDollar,
        Header,
        Payload,
        Done,
    }

    /// <param name="fraction">Where in a payload of known length to fire (0..1).</param>
    /// <param name="disklessBytes">Where to fire in a diskless payload, whose length is not announced.</param>
    /// <param name="cut">True: cut the link there; false: stall the link there (the caller resumes it).</param>
    public FullSyncWatch(double fraction, int disklessBytes, bool cut)
    {
        _fraction = fraction;
        _disklessBytes = disklessBytes;
        _cut = cut;
    }

    /// <summary>Set once the watch fired (the link is cut, or stalled with part of the payload delivered).</summary>
    public ManualResetEventSlim Fired => _fired;

    /// <summary>What was seen, for the log: how far into which payload it fired.</summary>
    public string Description { get; private set; } = "no full sync seen";

    public Psyncd.Tests.Support.TcpProxy? Proxy { get; set; }

    /// <summary>The proxy's hook: false cuts the link.</summary>
    public bool Inspect(ReadOnlyMemory<byte> chunk)
    {
        var span = chunk.Span;
        for (int i = 0; i < span.Length; i++)
        {
            byte b = span[i];
            switch (_state)
            {
                case State.SeekFullResync:
                    _matched = b == s_fullResync[_matched] ? _matched + 1 : (b == s_fullResync[0] ? 1 : 0);
                    if (_matched == s_fullResync.Length)
                        _state = State.FullResyncLine;
                    break;
                case State.FullResyncLine:
                    if (b == '\n')
                        _state = State.SeekDollar;
                    break;
                case State.SeekDollar:
                    if (b == '$')
                        _state = State.Header;
                    break;
                case State.Header:
                    if (b == '\n')
                    {
                        StartPayload(_header.ToString().TrimEnd('\r'));
                        // The rest of this chunk is payload.
                        if (Count(span[(i + 1)..]))
                            return Fire();
                        return true;
                    }
                    _header.Append((char)b);
                    break;
                case State.Payload:
                    if (Count(span[i..]))
                        return Fire();
                    return true;
                case State.Done:
                    return true;
            }
        }
        return true;
    }

    private void StartPayload(string header)
    {
        _state = State.Payload;
        if (header.StartsWith("EOF:", StringComparison.Ordinal))
        {
            _eofMark = Encoding.Latin1.GetBytes(header[4..]);
            _threshold = Math.Max(1, _disklessBytes);
            Description = "diskless payload";
        }
        else
        {
            long length = long.Parse(header);
            _threshold = Math.Max(1, (long)(length * _fraction));
            if (_threshold >= length)
                _threshold = length - 1;
            Description = "payload of " + length + " bytes";
        }
    }

    /// <summary>Counts payload bytes; true when this chunk crosses the point (it is not forwarded).</summary>
    private bool Count(ReadOnlySpan<byte> payload)
    {
        if (_threshold <= 0)
        {
            // A payload of one byte or none cannot be cut in its middle.
            _state = State.Done;
            return false;
        }
        if (_payloadSeen + payload.Length > _threshold)
        {
            Description += ", fired after " + _payloadSeen + " bytes";
            return true;
        }
        _payloadSeen += payload.Length;
        if (_eofMark is not null && EndsDiskless(payload))
        {
            Description += " ended before " + _threshold + " bytes (not fired)";
            _state = State.Done;
        }
        return false;
    }

    /// <summary>True when the diskless payload's end mark is in this chunk (the transfer is over).</summary>
    private bool EndsDiskless(ReadOnlySpan<byte> payload)
    {
        foreach (byte b in payload)
        {
            _tail.Enqueue(b);
            if (_tail.Count > _eofMark!.Length)
                _tail.Dequeue();
            if (_tail.Count == _eofMark.Length && _tail.SequenceEqual(_eofMark))
                return true;
        }
        return false;
    }

    private bool Fire()
    {
        _state = State.Done;
        if (!_cut && Proxy is not null)
            Proxy.Stalled = true;
        _fired.Set();
        return !_cut;
    }
}
