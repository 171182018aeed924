using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Psyncd.Execution;
using Psyncd.Persistence;
using Psyncd.Rdb;
using Psyncd.Replication.Master;
using Psyncd.Text;

namespace Psyncd.Replication;

/// <summary>The master's side: SYNC/PSYNC, full and partial resynchronization, ACKs, WAIT, timeouts.</summary>
public sealed partial class ReplicationManager
{
    private static readonly byte[] s_ping = "*1\r\n$4\r\nping\r\n"u8.ToArray();
    private static readonly byte[] s_getAck = "*3\r\n$8\r\nREPLCONF\r\n$6\r\nGETACK\r\n$1\r\n*\r\n"u8.ToArray();

    private readonly List<(Client Client, long Offset, int Needed, long DeadlineMs)> _waiters = new();
    private bool _getAckRequested;

    /// <summary>True while a snapshot for replicas is being written.</summary>
    private bool _replicaSnapshotRunning;

    // ------------------------------------------------------------------
    // SYNC and PSYNC (mirrors syncCommand / masterTryPartialResynchronization)
    // ------------------------------------------------------------------

    /// <summary>
    /// A replica asks for the stream: <paramref name="psync"/> with the history id and the offset of the
    /// first byte it lacks, or plain SYNC. Answers +CONTINUE with the backlog when the history and the
    /// offset are covered, else starts (or joins the wait for) a full resynchronization.
    /// </summary>
    public void HandleSync(Client client, bool psync, string replId, string offsetText)
    {
        if (client.Has(ClientFlags.Replica))
            return; // already a replica: ignored, as Redis does
        if (MasterLink is not null && !MasterLink.IsConnected)
        {
            client.Output.WriteError("NOMASTERLINK Can't SYNC while not connected with my master"u8);
            return;
        }
        var link = GetOrAddLink(client);
        link.PrePsync = !psync;
        if (psync)
        {
            bool offsetOk = long.TryParse(offsetText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long offset);
            if (offsetOk && TryPartialResync(link, replId, offset))
                return;
            if (replId != "?")
                Stats.SyncPartialErr++;
        }
        else
        {
            // A SYNC client is never sent +FULLRESYNC and never timed out for missing ACKs.
            client.Flags |= ClientFlags.PrePsync;
        }

        Stats.SyncFull++;
        Log.Notice("Replica " + link.Ip + ":" + link.ListeningPort + " asks for synchronization");
        if (psync)
            Log.Notice("Full resync requested by replica " + link.Ip + ":" + link.ListeningPort);
        client.Flags |= ClientFlags.Replica;
        link.State = ReplicaState.WaitBgsaveStart;
        link.WaitingSinceMs = Environment.TickCount64;
        _replicas.Add(link);
        if (Stream.Backlog is null)
        {
            // The first replica starts a history of its own: nobody could continue the old one, since it
            // was never recorded.
            ReplId = NewReplId();
            ClearReplicationId2();
            Stream.Backlog = new ReplicationBacklog(Options.ReplBacklogSize, Stream.MasterReplOffset + 1);
            Log.Notice("Replication backlog created, my new replication IDs are '" + ReplId + "' and '" + ReplId2 + "'");
        }
        if (!_replicaSnapshotRunning)
            StartSnapshotForReplicas();
        else
            Log.Notice("Can't attach the replica to the current BGSAVE. Waiting for next BGSAVE for SYNC");
    }

    private bool TryPartialResync(ReplicaLink link, string replId, long offset)
    {
        var backlog = Stream.Backlog;
        bool sameHistory = string.Equals(replId, ReplId, StringComparison.OrdinalIgnoreCase)
            || (string.Equals(replId, ReplId2, StringComparison.OrdinalIgnoreCase) && offset <= SecondReplOffset);
        if (!sameHistory)
        {
            if (replId != "?")
            {
                if (!string.Equals(replId, ReplId, StringComparison.OrdinalIgnoreCase) && !string.Equals(replId, ReplId2, StringComparison.OrdinalIgnoreCase))
                    Log.Notice("Partial resynchronization not accepted: Replication ID mismatch (Replica asked for '" + replId + "', my replication IDs are '" + ReplId + "' and '" + ReplId2 + "')");
                else
                    Log.Notice("Partial resynchronization not accepted: Requested offset for second ID was " + offset + ", but I can reply up to " + SecondReplOffset);
            }
            return false;
        }
        if (backlog is null || !backlog.Covers(offset))
        {
            if (TryPartialResyncFromLog(link, offset))
                return true;
            Log.Notice("Unable to partial resync with replica " + link.Ip + ":" + link.ListeningPort + " for lack of backlog (Replica request was: " + offset + ").");
            if (backlog is not null && offset > backlog.NextOffset)
                Log.Warning("Warning: replica " + link.Ip + ":" + link.ListeningPort + " tried to PSYNC with an offset that is greater than the master replication offset.");
            return false;
        }

        var output = AcceptPartialResync(link);
        long sent = backlog.NextOffset - offset;
        backlog.CopyFrom(offset, chunk => output.WriteRaw(chunk.Span));
        Stream.AddListener(link);
        output.RequestFlush();
        Stats.SyncPartialOk++;
        Log.Notice("Partial resynchronization request from " + link.Ip + ":" + link.ListeningPort + " accepted. Sending " + sent + " bytes of backlog starting from offset " + offset + ".");
        UpdateGoodReplicas(Environment.TickCount64);
        return true;
    }

    /// <summary>The replica becomes an online one and is told +CONTINUE (with our id under PSYNC2); returns its output.</summary>
    private ClientOutput AcceptPartialResync(ReplicaLink link)
    {
        var client = link.Client;
        client.Flags |= ClientFlags.Replica;
        link.State = ReplicaState.Online;
        link.LastAckMs = Environment.TickCount64;
        _replicas.Add(link);
        var output = client.Output;
        output.WriteRaw(link.CapaPsync2 ? Encoding.ASCII.GetBytes("+CONTINUE " + ReplId + "\r\n") : "+CONTINUE\r\n"u8);
        return output;
    }

    /// <summary>
    /// Starts a snapshot for every replica waiting for one. Its instant is now: each of them gets
    /// +FULLRESYNC with the current offset, and from here on the stream is held in its output, to follow
    /// the payload.
    /// </summary>
    private void StartSnapshotForReplicas()
    {
        var rdb = Rdb;
        if (rdb is null || rdb.SnapshotInProgress)
            return; // retried by the cron once the running snapshot is over
        var waiting = _replicas.Where(r => r.State == ReplicaState.WaitBgsaveStart).ToList();
        if (waiting.Count == 0)
            return;
        // Diskless when configured and every waiting replica understands EOF-framed payloads; after
        // repl-diskless-sync-delay, so that replicas arriving together share one snapshot.
        bool diskless = Options.ReplDisklessSync && waiting.All(r => r.CapaEof);
        if (diskless && Environment.TickCount64 - waiting.Min(r => r.WaitingSinceMs) < Options.ReplDisklessSyncDelay * 1000L)
            return; // the cron tries again every second
        // A master restarts its stream's SELECTs, so the new replicas may start in db 0. A replica forwards
        // its master's stream verbatim, without SELECTs of its own: they start where that stream is.
        int streamDb = 0;
        if (MasterLink is null)
            Stream.ResetStreamDb();
        else
            streamDb = MasterLink.StreamDb;
        long offset = Stream.MasterReplOffset;
        var point = new ReplicationPoint(ReplId, offset, streamDb);
        if (diskless)
        {
            StartDisklessSync(rdb, waiting, point);
            return;
        }
        bool started = rdb.TryStartSnapshot(point, OnReplicaSnapshotDone);
        if (!started)
            return;
        _replicaSnapshotRunning = true;
        Log.Notice("Starting BGSAVE for SYNC with target: disk");
        foreach (var link in waiting)
        {
            var output = link.Client.Output;
            if (!link.PrePsync)
                output.WriteRaw(Encoding.ASCII.GetBytes("+FULLRESYNC " + ReplId + " " + offset + "\r\n"));
            output.Flush();
            output.Hold();
            link.State = ReplicaState.WaitBgsaveEnd;
            Stream.AddListener(link);
        }
    }

    /// <summary>
    /// Diskless full sync: the snapshot is streamed straight to the replicas' sockets, framed as
    /// <c>$EOF:&lt;mark&gt;\r\n</c> + RDB + mark, from a thread of its own; the stream produced since the
    /// snapshot's instant waits in their outputs until each acknowledges the load.
    /// </summary>
    private void StartDisklessSync(RdbPersistence rdb, List<ReplicaLink> links, ReplicationPoint point)
    {
        long offset = point.Offset;
        var stream = rdb.TryStartStreaming(point);
        if (stream is null)
            return;
        _replicaSnapshotRunning = true;
        string mark = OsRandom.Hex(20);
        Log.Notice("Starting BGSAVE for SYNC with target: replicas sockets");
        foreach (var link in links)
        {
            var output = link.Client.Output;
            if (!link.PrePsync)
                output.WriteRaw(Encoding.ASCII.GetBytes("+FULLRESYNC " + ReplId + " " + offset + "\r\n"));
            output.WriteRaw(Encoding.ASCII.GetBytes("$EOF:" + mark + "\r\n"));
            output.Flush();
            output.Hold();
            link.State = ReplicaState.SendBulk;
            Stream.AddListener(link);
        }
        SnapshotThreads.Shared.Run(() => DisklessTransferMain(links, stream, mark));
    }

    private void DisklessTransferMain(List<ReplicaLink> links, Action<Stream> stream, string mark)
    {
        var targets = new FanOutStream(links.Select(l => l.Client.Output.Pipe).ToArray());
        string? error = null;
        try
        {
            foreach (var link in links)
                link.KeepaliveFlush.Wait();
            stream(targets);
            targets.Write(Encoding.ASCII.GetBytes(mark));
            targets.Flush();
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidOperationException or ObjectDisposedException)
        {
            error = e.Message;
        }
        Loop.Enter();
        try
        {
            _replicaSnapshotRunning = false;
            for (int i = 0; i < links.Count; i++)
            {
                var link = links[i];
                if (error is not null || targets.Failed(i) || LinkOf(link.Client) != link)
                {
                    Log.Warning("Diskless sync with replica " + link.Ip + ":" + link.ListeningPort + " failed: " + (error ?? "connection lost"));
                    link.Client.CloseAsap();
                    continue;
                }
                link.State = ReplicaState.Online;
                link.WaitingFirstAck = true;
                link.LastAckMs = Environment.TickCount64;
                Log.Notice("Streamed RDB transfer with replica " + link.Ip + ":" + link.ListeningPort + " succeeded (socket). Waiting for REPLCONF ACK from replica to enable streaming");
            }
            StartSnapshotForReplicas();
        }
        finally
        {
            Loop.Exit();
        }
    }

    private void OnReplicaSnapshotDone(string? path, string? error)
    {
        _replicaSnapshotRunning = false;
        var ready = _replicas.Where(r => r.State == ReplicaState.WaitBgsaveEnd).ToList();
        if (path is null)
        {
            Log.Warning("Background saving for SYNC failed: " + error + ". Disconnecting the replicas waiting for it.");
            foreach (var link in ready)
                link.Client.CloseAsap();
        }
        else
        {
            Log.Notice("Background saving for SYNC terminated with success");
            foreach (var link in ready)
            {
                link.State = ReplicaState.SendBulk;
                _ = SendPayloadAsync(link, path, ready.Count);
            }
        }
        // Replicas that arrived while this snapshot ran get the next one.
        StartSnapshotForReplicas();
    }

    /// <summary>
    /// Sends the RDB file as the payload (<c>$len\r\n</c> then exactly len bytes) straight to the replica's
    /// transport, outside the loop, paced by the socket. Then the held stream follows.
    /// </summary>
    private async Task SendPayloadAsync(ReplicaLink link, string path, int sharers)
    {
        var pipe = link.Client.Output.Pipe;
        bool ok = false;
        try
        {
            if (pipe is not null)
            {
                await link.KeepaliveFlush.ConfigureAwait(false);
                await using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1 << 16, useAsync: true);
                long size = file.Length;
                Log.Notice("Synchronization with replica " + link.Ip + ":" + link.ListeningPort + ": sending " + size + " bytes of RDB");
                await pipe.WriteAsync(Encoding.ASCII.GetBytes("$" + size + "\r\n")).ConfigureAwait(false);
                var buffer = ArrayPool<byte>.Shared.Rent(1 << 16);
                try
                {
                    int read;
                    while ((read = await file.ReadAsync(buffer.AsMemory(0, 1 << 16)).ConfigureAwait(false)) > 0)
                    {
                        var result = await pipe.WriteAsync(buffer.AsMemory(0, read)).ConfigureAwait(false);
                        if (result.IsCompleted || result.IsCanceled)
                            break;
                    }
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
                ok = true;
            }
        }
        catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
        {
            Log.Warning("Error sending the RDB to replica " + link.Ip + ":" + link.ListeningPort + ": " + e.Message);
        }
        Loop.Enter();
        try
        {
            if (ok && LinkOf(link.Client) == link)
            {
                link.State = ReplicaState.Online;
                link.LastAckMs = Environment.TickCount64;
                link.Client.Output.Release();
                Log.Notice("Synchronization with replica " + link.Ip + ":" + link.ListeningPort + " succeeded");
                UpdateGoodReplicas(Environment.TickCount64);
            }
            else if (!ok)
            {
                link.Client.CloseAsap();
            }
        }
        finally
        {
            Loop.Exit();
        }
    }

    // ------------------------------------------------------------------
    // REPLCONF, ACKs, WAIT
    // ------------------------------------------------------------------

    /// <summary>REPLCONF ACK from a replica: its applied offset (raises only).</summary>
    public void Ack(Client client, long offset)
    {
        var link = LinkOf(client);
        if (link is null || !client.Has(ClientFlags.Replica))
            return;
        if (offset > link.AckOffset)
            link.AckOffset = offset;
        link.LastAckMs = Environment.TickCount64;
        // The age of the first byte it lacks, now (lag_ms); 0 when it has the whole stream.
        link.AckLagMs = link.AckOffset >= Stream.MasterReplOffset ? 0 : Stream.Timeline.AgeMs(link.AckOffset + 1, Stopwatch.GetTimestamp());
        if (link.WaitingFirstAck && link.State == ReplicaState.Online)
        {
            link.WaitingFirstAck = false;
            link.Client.Output.Release();
            Log.Notice("Synchronization with replica " + link.Ip + ":" + link.ListeningPort + " succeeded");
            UpdateGoodReplicas(Environment.TickCount64);
        }
        if (_waiters.Count > 0)
            ServeWaiters(Environment.TickCount64);
    }

    /// <summary>An empty line from a replica (it is loading our payload): it is alive.</summary>
    public void Keepalive(Client client)
    {
        if (LinkOf(client) is { } link)
            link.LastAckMs = Environment.TickCount64;
    }

    /// <summary>Online replicas whose acknowledged offset is at least <paramref name="offset"/>.</summary>
    public int ReplicasAcknowledging(long offset)
    {
        int count = 0;
        foreach (var link in _replicas)
        {
            if (link.State == ReplicaState.Online && link.AckOffset >= offset)
                count++;
        }
        return count;
    }

    /// <summary>
    /// WAIT: blocks <paramref name="client"/> until <paramref name="needed"/> replicas acknowledged its
    /// last write, or the timeout passes (0: forever); then replies the count. One REPLCONF GETACK is
    /// sent at the end of the batch to hurry the ACKs.
    /// </summary>
    public void Wait(Client client, int needed, long timeoutMs)
    {
        long offset = client.ReplicationOffset;
        int acked = ReplicasAcknowledging(offset);
        if (acked >= needed || client.MultiQueue is not null)
        {
            client.Output.WriteInteger(acked);
            return;
        }
        client.Flags |= ClientFlags.Blocked;
        _waiters.Add((client, offset, needed, timeoutMs == 0 ? long.MaxValue : Environment.TickCount64 + timeoutMs));
        _getAckRequested = true;
    }

    /// <summary>Called at the end of each loop batch: one GETACK for all the WAITs of the batch.</summary>
    public void BeforeSleep()
    {
        if (!_getAckRequested)
            return;
        _getAckRequested = false;
        Stream.AppendInCurrentDb(s_getAck);
    }

    /// <summary>
    /// At the end of each loop batch, after the durable log's buffer is written: flushes the stream the batch gave the
    /// replicas, or leaves it to the event loop's pass end (see <see cref="ReplicaFlusher"/>).
    /// </summary>
    public void FlushReplicasSoon() => _flusher.BeforeSleep();

    /// <summary>Ends every WAIT with <paramref name="error"/>, closing each client after its reply (see <see cref="PsyncdServer.DisconnectBlockedClients"/>).</summary>
    internal void FailWaiters(ReadOnlySpan<byte> error)
    {
        foreach (var (client, _, _, _) in _waiters)
        {
            client.Flags = (client.Flags & ~ClientFlags.Blocked) | ClientFlags.CloseAfterReply;
            client.Output.WriteError(error);
            client.Output.RequestFlush();
            client.Connection?.Resume();
        }
        _waiters.Clear();
    }

    private void ServeWaiters(long now)
    {
        for (int i = _waiters.Count - 1; i >= 0; i--)
        {
            var (client, offset, needed, deadline) = _waiters[i];
            int acked = ReplicasAcknowledging(offset);
            if (acked < needed && now < deadline && !client.IsClosing)
                continue;
            _waiters.RemoveAt(i);
            client.Flags &= ~ClientFlags.Blocked;
            client.Output.WriteInteger(acked);
            client.Output.RequestFlush();
            client.Connection?.Resume();
        }
    }

    // ------------------------------------------------------------------
    // Cron
    // ------------------------------------------------------------------

    private void MasterCron(long now)
    {
        var options = Options;
        // PING the replicas every repl-ping-slave-period seconds, so they can tell a dead master from a
        // quiet one. A replica never pings on its own: its replicas get its master's PINGs.
        if (MasterLink is null && _replicas.Count > 0 && now - _lastPingMs >= options.ReplPingSlavePeriod * 1000L)
        {
            _lastPingMs = now;
            Stream.AppendInCurrentDb(s_ping);
        }

        foreach (var link in _replicas.ToList())
        {
            if (link.State is ReplicaState.WaitBgsaveStart or ReplicaState.WaitBgsaveEnd)
            {
                // A newline a second while the payload is prepared (not part of the stream, not counted).
                WriteBypassingHold(link, "\n"u8);
            }
            else if (link.State == ReplicaState.Online && !link.PrePsync && now - link.LastAckMs > options.ReplTimeout * 1000L)
            {
                Log.Warning("Disconnecting timedout replica (streaming sync): " + link.Ip + ":" + link.ListeningPort);
                link.Client.CloseAsap();
            }
        }

        if (MasterLink is null && _replicas.Count == 0 && Stream.Backlog is not null && options.ReplBacklogTtl > 0
            && now - _noReplicasSinceMs > options.ReplBacklogTtl * 1000)
        {
            // Nobody can continue a history that was not fully recorded: a new id, and no second one.
            Stream.Backlog = null;
            ReplId = NewReplId();
            ClearReplicationId2();
            Log.Notice("Replication backlog freed after " + options.ReplBacklogTtl + " seconds without connected replicas.");
        }
        if (_replicas.Count > 0)
            _noReplicasSinceMs = now;

        if (_waiters.Count > 0)
            ServeWaiters(now);
        if (!_replicaSnapshotRunning && _replicas.Any(r => r.State == ReplicaState.WaitBgsaveStart))
            StartSnapshotForReplicas();
        UpdateGoodReplicas(now);
    }

    /// <summary>Counts the good replicas now (after CONFIG SET changed min-slaves-to-write or min-slaves-max-lag).</summary>
    internal void RefreshGoodReplicas() => UpdateGoodReplicas(Environment.TickCount64);

    private void UpdateGoodReplicas(long now)
    {
        int good = 0;
        long maxLag = Options.MinSlavesMaxLag * 1000L;
        foreach (var link in _replicas)
        {
            if (link.State == ReplicaState.Online && now - link.LastAckMs <= maxLag)
                good++;
        }
        State.GoodReplicaCount = good;
    }

    /// <summary>Writes keepalive bytes to a replica whose output is held (not part of the stream).</summary>
    private static void WriteBypassingHold(ReplicaLink link, ReadOnlySpan<byte> bytes)
    {
        var pipe = link.Client.Output.Pipe;
        // Never two flushes at once on a pipe: skip this keepalive while the last one is pending.
        if (pipe is null || link.Client.IsClosing || !link.KeepaliveFlush.IsCompleted)
            return;
        pipe.Write(bytes);
        var flush = pipe.FlushAsync();
        if (!flush.IsCompleted)
            link.KeepaliveFlush = flush.AsTask();
    }
}
