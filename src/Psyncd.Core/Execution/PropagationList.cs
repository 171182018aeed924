using Psyncd.Protocol;

namespace Psyncd.Execution;

/// <summary>
/// What the command being executed (or the transaction being executed by EXEC) will add to the
/// replication stream, collected until it completes and then written out in one piece.
/// </summary>
/// <remarks>
/// Redis 7's rule, which psyncd follows: a command propagates the commands it collected (its request, or
/// the effects that replace it, plus the DELs of keys it found expired); one is written as it is, several
/// are wrapped in MULTI/EXEC so a replica applies them atomically. Each item remembers its database, so
/// that the stream can switch with SELECT where needed.
/// </remarks>
public sealed class PropagationList
{
    private readonly ByteBufferWriter _buffer = new(1024);
    private readonly List<(int Db, int Start)> _items = new();

    /// <summary>Items collected so far.</summary>
    public int Count => _items.Count;

    /// <summary>True when the current command said its request must not be propagated as received.</summary>
    public bool RequestReplaced { get; private set; }

    /// <summary>Starts an item of <paramref name="argCount"/> arguments; the caller writes them as bulk strings.</summary>
    public ReplyWriter Add(int db, int argCount, bool replacesRequest)
    {
        if (replacesRequest)
            RequestReplaced = true;
        _items.Add((db, _buffer.Length));
        _buffer.WriteArrayHeader(argCount);
        return _buffer;
    }

    /// <summary>Adds a DEL of <paramref name="key"/>: how the deletion of an expired key reaches replicas.</summary>
    public void AddDel(int db, ReadOnlySpan<byte> key)
    {
        var writer = Add(db, 2, replacesRequest: false);
        writer.WriteBulk("DEL"u8);
        writer.WriteBulk(key);
    }

    /// <summary>Adds an item already encoded as a RESP array (a request as it was received).</summary>
    public void AddEncoded(int db, ReadOnlySpan<byte> command)
    {
        _items.Add((db, _buffer.Length));
        _buffer.WriteRaw(command);
    }

    /// <summary>Adds an item from its arguments.</summary>
    public void AddArgs(int db, in CommandArgs args)
    {
        _items.Add((db, _buffer.Length));
        _buffer.WriteArrayHeader(args.Count);
        for (int i = 0; i < args.Count; i++)
            _buffer.WriteBulk(args[i]);
    }

    /// <summary>Where the list ends now, for <see cref="TruncateTo"/>.</summary>
    public (int Items, long Bytes) Mark() => (_items.Count, _buffer.BytesWritten);

    /// <summary>Forgets the items added after <paramref name="mark"/> (what a command that failed half-way collected).</summary>
    public void TruncateTo((int Items, long Bytes) mark)
    {
        _items.RemoveRange(mark.Items, _items.Count - mark.Items);
        _buffer.TryRewind(mark.Bytes);
    }

    /// <summary>The current command's request will not be propagated as received.</summary>
    public void ReplaceRequest() => RequestReplaced = true;

    /// <summary>Starts the next command (inside a transaction, items of earlier commands stay).</summary>
    public void BeginCommand() => RequestReplaced = false;

    /// <summary>Writes the items to the stream, wrapped in MULTI/EXEC when there are several and <paramref name="wrap"/>, then forgets them.</summary>
    public void FlushTo(IEffectsSink stream, bool wrap)
    {
        int count = _items.Count;
        if (count == 0)
            return;
        if (stream.IsActive)
        {
            bool multi = wrap && count > 1;
            if (multi)
                stream.Append(_items[0].Db, "*1\r\n$5\r\nMULTI\r\n"u8);
            var all = _buffer.WrittenSpan;
            for (int i = 0; i < count; i++)
            {
                int start = _items[i].Start;
                int end = i + 1 < count ? _items[i + 1].Start : all.Length;
                stream.Append(_items[i].Db, all[start..end]);
            }
            if (multi)
                stream.AppendInCurrentDb("*1\r\n$4\r\nEXEC\r\n"u8);
        }
        Clear();
    }

    public void Clear()
    {
        _items.Clear();
        _buffer.Clear();
        RequestReplaced = false;
    }
}
