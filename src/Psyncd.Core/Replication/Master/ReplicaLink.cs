using System.Globalization;
using Psyncd.Execution;

namespace Psyncd.Replication.Master;

/// <summary>Where a replica stands on the master's side (Redis's SLAVE_STATE_*).</summary>
public enum ReplicaState
{
    /// <summary>Asked for a full sync; waiting for a snapshot to start (another one may be running).</summary>
    WaitBgsaveStart,

    /// <summary>Its snapshot is being written; the stream since the snapshot's instant is held for it.</summary>
    WaitBgsaveEnd,

    /// <summary>The RDB payload is being sent.</summary>
    SendBulk,

    /// <summary>Receives the stream as it is produced.</summary>
    Online,
}

/// <summary>
/// One replica, as its master sees it (Redis's slave client state): its state, what it announced with
/// REPLCONF, its acknowledged offset, and its share of the stream. The stream reaches it through its
/// client's output: while its payload is pending the output is held, so the bytes produced since the
/// snapshot's instant wait in the output's overflow, in order, and follow the payload.
/// </summary>
public sealed class ReplicaLink : IStreamListener
{
    public ReplicaLink(Client client)
    {
        Client = client;
    }

    internal ReplicaLink(Client client, ReplicaFlusher flusher)
    {
        Client = client;
        _flusher = flusher;
    }

    /// <summary>Batches the flushes of the stream's bytes; null: each loop pass flushes them (links made by tests).</summary>
    private readonly ReplicaFlusher? _flusher;

    /// <summary>Its output waits for the flusher's next pass.</summary>
    internal bool FlushQueued { get; set; }

    public Client Client { get; }

    public ReplicaState State { get; set; } = ReplicaState.WaitBgsaveStart;

    /// <summary>Port the replica listens on (REPLCONF listening-port); 0 when never given.</summary>
    public int ListeningPort { get; set; }

    /// <summary>Address the replica announced (REPLCONF ip-address), or null to use the peer address.</summary>
    public string? AnnouncedIp { get; set; }

    /// <summary>It understands <c>$EOF:</c> payloads (REPLCONF capa eof).</summary>
    public bool CapaEof { get; set; }

    /// <summary>It understands <c>+CONTINUE &lt;replid&gt;</c> (REPLCONF capa psync2).</summary>
    public bool CapaPsync2 { get; set; }

    /// <summary>Highest offset the replica acknowledged (REPLCONF ACK).</summary>
    public long AckOffset { get; set; }

    /// <summary>
    /// Milliseconds the oldest stream byte not covered by the last ACK had been waiting when that ACK arrived
    /// (0: the replica had everything); see <see cref="LagMs"/>.
    /// </summary>
    public long AckLagMs { get; set; }

    /// <summary>When the last ACK (or keepalive newline) arrived (Environment.TickCount64).</summary>
    public long LastAckMs { get; set; } = Environment.TickCount64;

    /// <summary>It spoke SYNC, not PSYNC: no +FULLRESYNC line, no ACKs expected, never timed out.</summary>
    public bool PrePsync { get; set; }

    /// <summary>When it started waiting for a snapshot (for repl-diskless-sync-delay).</summary>
    public long WaitingSinceMs { get; set; } = Environment.TickCount64;

    /// <summary>
    /// After an EOF-framed payload: online, but the stream is held until its first REPLCONF ACK (the
    /// replica finds the payload's end by the mark; nothing may follow it until the replica has loaded).
    /// </summary>
    public bool WaitingFirstAck { get; set; }

    /// <summary>A keepalive flush still in progress on the held output (the payload waits for it).</summary>
    internal Task KeepaliveFlush { get; set; } = Task.CompletedTask;

    /// <summary>The address reported for this replica: the announced one, else the peer's IP.</summary>
    public string Ip => AnnouncedIp ?? Client.Address[..Client.Address.LastIndexOf(':')];

    /// <summary>The state word INFO replication shows (wait_bgsave, send_bulk, online).</summary>
    public string StateName => State switch
    {
        ReplicaState.WaitBgsaveStart or ReplicaState.WaitBgsaveEnd => "wait_bgsave",
        ReplicaState.SendBulk => "send_bulk",
        _ => "online",
    };

    /// <summary>Seconds since the last ACK, as INFO's lag= shows it (0 unless online).</summary>
    public long LagSeconds => State == ReplicaState.Online ? (Environment.TickCount64 - LastAckMs) / 1000 : 0;

    public void OnStreamBytes(ReadOnlySpan<byte> bytes)
    {
        Client.Output.WriteRaw(bytes);
        if (_flusher is not null)
            _flusher.Add(this);
        else
            Client.Output.RequestFlush();
    }

    /// <summary>
    /// INFO's <c>lag_ms=</c> (a psyncd field): how far behind the replica is, in milliseconds of the master's
    /// stream. At each REPLCONF ACK the master looks up, in the stream's <see cref="StreamTimeline"/>, when it
    /// appended the first byte the ACK does not cover, and keeps that byte's age (<see cref="AckLagMs"/>; 0 when
    /// the ACK covers the whole stream). Replicas ACK once a second, so this is the lag of the last second's
    /// ACK, measured to the millisecond, round trip of the ACK included. A replica silent for longer than
    /// <see cref="SilentAckMs"/> gets the live age of its oldest unacknowledged byte instead, which grows
    /// while it stays silent. -1 for a replica that spoke SYNC (it never ACKs); 0 unless online.
    /// </summary>
    public long LagMs(ReplicationStream stream, long nowTicks)
    {
        if (State != ReplicaState.Online)
            return 0;
        if (PrePsync)
            return -1;
        if (Environment.TickCount64 - LastAckMs <= SilentAckMs || AckOffset >= stream.MasterReplOffset)
            return AckLagMs;
        return stream.Timeline.AgeMs(AckOffset + 1, nowTicks);
    }

    /// <summary>Two ACK periods: a replica that ACKs every second has missed one.</summary>
    public const long SilentAckMs = 2000;

    /// <summary>INFO's <c>slaveN:</c> value: Redis's fields, byte for byte, then psyncd's <c>lag_ms</c> last (parsers look fields up by name).</summary>
    public string InfoLine(ReplicationStream stream, long nowTicks) => string.Create(CultureInfo.InvariantCulture,
        $"ip={Ip},port={ListeningPort},state={StateName},offset={AckOffset},lag={LagSeconds},lag_ms={LagMs(stream, nowTicks)}");
}
