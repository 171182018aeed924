namespace Psyncd.Execution;

/// <summary>
/// Where executed writes go, in execution order: the replication stream (declared here so that the
/// dispatcher never names Replication; implemented by <c>ReplicationStream</c>).
/// </summary>
public interface IEffectsSink
{
    /// <summary>True when appended bytes go anywhere (a backlog or a replica); else nothing needs to be written.</summary>
    bool IsActive { get; }

    /// <summary>Offset of the last byte of the stream (<c>master_repl_offset</c>).</summary>
    long MasterReplOffset { get; }

    /// <summary>Appends one encoded command executed in database <paramref name="db"/> (a SELECT first when the stream is elsewhere).</summary>
    void Append(int db, ReadOnlySpan<byte> command);

    /// <summary>Appends one encoded command in whatever database the stream is in (EXEC, PING).</summary>
    void AppendInCurrentDb(ReadOnlySpan<byte> command);
}
