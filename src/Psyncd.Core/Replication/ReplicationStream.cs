using System.Buffers.Text;
using Psyncd.Execution;
using Psyncd.Persistence;

namespace Psyncd.Replication;

/// <summary>Something fed the replication stream as it is produced: a replica's link.</summary>
public interface IStreamListener
{
    /// <summary>Stream bytes, in order; called inside the command loop.</summary>
    void OnStreamBytes(ReadOnlySpan<byte> bytes);
}

/// <summary>
/// The replication stream: the single place where executed writes are appended, in the command loop's
/// execution order, to the backlog and to every replica.
/// </summary>
/// <remarks>
/// <para>What a master propagates (the policy, in one place):</para>
/// <list type="bullet">
/// <item>Writes as their effects: the dispatcher propagates a write's request as received when it changed
/// the dataset, unless the command supplied replacements (relative expiries as absolute PXAT/PEXPIREAT,
/// SPOP as SREM, INCRBYFLOAT as SET ... KEEPTTL, blocking pops as their plain forms).</item>
/// <item>Keys deleted by expiry as DEL (lazily on lookup, or by the active cycle); replicas never expire
/// keys on their own.</item>
/// <item>Several commands of one execution wrapped in MULTI/EXEC (see <see cref="PropagationList"/>).</item>
/// <item>SELECT whenever the stream's database changes; PING every repl-ping-slave-period in the current
/// database (never causing a SELECT).</item>
/// </list>
/// <para>A replica propagates nothing of its own: it forwards its master's bytes verbatim
/// (<see cref="AppendVerbatim"/>) so that offsets stay equal down a chain.</para>
/// <para>The offset (<see cref="MasterReplOffset"/>) counts every byte ever appended in this history.</para>
/// </remarks>
public sealed class ReplicationStream : IEffectsSink
{
    private readonly List<IStreamListener> _listeners = new();
    private readonly byte[] _selectBuffer = new byte[64];

    /// <summary>The database the stream last SELECTed; -1 when the next command must be preceded by SELECT.</summary>
    private int _streamDb = -1;

    /// <summary>The backlog, once the first replica attached (or after a sync as a replica).</summary>
    public ReplicationBacklog? Backlog { get; set; }

    /// <summary>Offset of the last byte of the stream (<c>master_repl_offset</c>).</summary>
    public long MasterReplOffset { get; set; }

    /// <summary>The database the stream is in (for the RDB's <c>repl-stream-db</c>); -1 when none yet.</summary>
    public int StreamDb
    {
        get => _streamDb;
        set => _streamDb = value;
    }

    /// <summary>The durable log (<c>appendonly</c>): it gets every byte, in order, as replicas do.</summary>
    public AppendOnlyFile? Aof { get; set; }

    /// <summary>True when appended bytes go anywhere: a backlog exists, a replica listens, or the log is on.</summary>
    public bool IsActive => Backlog is not null || _listeners.Count > 0 || (Aof?.IsOn ?? false);

    public IReadOnlyList<IStreamListener> Listeners => _listeners;

    public void AddListener(IStreamListener listener) => _listeners.Add(listener);

    public void RemoveListener(IStreamListener listener) => _listeners.Remove(listener);

    /// <summary>Appends one encoded command that belongs to database <paramref name="db"/>, after a SELECT if the stream is elsewhere.</summary>
    public void Append(int db, ReadOnlySpan<byte> command)
    {
        if (!IsActive)
            return;
        if (db != _streamDb)
        {
            Feed(EncodeSelect(db));
            _streamDb = db;
        }
        Feed(command);
    }

    /// <summary>Appends a command that needs no database (PING, REPLCONF GETACK, EXEC).</summary>
    public void AppendInCurrentDb(ReadOnlySpan<byte> command)
    {
        if (IsActive)
            Feed(command);
    }

    /// <summary>A replica forwarding what its master sent, byte for byte.</summary>
    public void AppendVerbatim(ReadOnlySpan<byte> bytes) => Feed(bytes);

    /// <summary>Forces a SELECT before the next command (a new full sync, a promotion).</summary>
    public void ResetStreamDb() => _streamDb = -1;

    /// <summary>When each part of the stream was appended, for the replicas' <c>lag_ms</c> (kept while a replica listens).</summary>
    public StreamTimeline Timeline { get; } = new();

    private void Feed(ReadOnlySpan<byte> bytes)
    {
        if (_listeners.Count > 0)
            Timeline.Mark(MasterReplOffset + 1);
        Backlog?.Append(bytes);
        if (Aof is { IsOn: true } aof)
            aof.Append(bytes);
        MasterReplOffset += bytes.Length;
        foreach (var listener in _listeners)
            listener.OnStreamBytes(bytes);
    }

    private ReadOnlySpan<byte> EncodeSelect(int db)
    {
        Span<byte> digits = stackalloc byte[4];
        Utf8Formatter.TryFormat(db, digits, out int n);
        var span = _selectBuffer.AsSpan();
        "*2\r\n$6\r\nSELECT\r\n$"u8.CopyTo(span);
        int p = 17;
        span[p++] = (byte)('0' + n);
        span[p++] = (byte)'\r';
        span[p++] = (byte)'\n';
        digits[..n].CopyTo(span[p..]);
        p += n;
        span[p++] = (byte)'\r';
        span[p++] = (byte)'\n';
        return span[..p];
    }
}
