using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using System.Text;
using Psyncd.Execution;
using Psyncd.Network;
using Psyncd.Protocol;
using Psyncd.Rdb;

namespace Psyncd.Replication.Replica;

/// <summary>The replica's link to its master, named for what it is doing (ROLE's words in brackets).</summary>
public enum MasterLinkState
{
    /// <summary>Must connect, next cron tick or at once (connect).</summary>
    Connect,

    /// <summary>TCP connection in progress (connecting).</summary>
    Connecting,

    /// <summary>PING, AUTH, REPLCONF and PSYNC exchanged (handshake).</summary>
    Handshake,

    /// <summary>Receiving the RDB payload, then loading it (sync).</summary>
    Transfer,

    /// <summary>Applying the master's stream (connected).</summary>
    Connected,
}

/// <summary>
/// The replica side of replication (Redis's syncWithMaster and readSyncBulkPayload): connects to the
/// master, performs the handshake, asks PSYNC with the cached history, receives and loads the payload of a
/// full resynchronization, then applies the master's stream as the master client, acknowledging every
/// second. The exchange is straight-line code on the link's own thread, blocking on the socket
/// (<see cref="LinkSocket"/>: each wait bounded by repl-timeout); <see cref="State"/> is updated at every step so
/// INFO, ROLE and the timeouts can see it. Once the stream starts, the connection joins the server's event loop
/// as the master client's (<see cref="ClientConnection.Adopt"/>): the stream is read and applied there like any
/// client's input, and the link's thread waits for it to end. Reconnects a second after a connection failure,
/// later and later after payloads the loader refused (see <see cref="RefusePayload"/>).
/// </summary>
public sealed partial class MasterLink
{
    private readonly ReplicationManager _manager;
    private readonly CancellationTokenSource _stop = new();
    private readonly ByteBufferWriter _pendingTransaction = new(256);

    /// <summary>
    /// Guards who owns the descriptor: the link's thread (<see cref="_socket"/>, handshake and payload) until the
    /// event loop adopts it (<see cref="_connection"/>), so that <see cref="Abort"/>, from any thread, reaches the owner.
    /// </summary>
    private readonly Lock _sync = new();
    private LinkSocket? _socket;
    private ClientConnection? _connection;
    private Client? _masterClient;
    private Thread? _thread;
    private Task _pendingAckFlush = Task.CompletedTask;
    private bool _prePsync;

    internal MasterLink(ReplicationManager manager, string host, int port, CachedMaster? cached)
    {
        _manager = manager;
        Host = host;
        Port = port;
        Cached = cached;
    }

    public string Host { get; }

    public int Port { get; }

    /// <summary>The history to ask PSYNC to continue; null forces a full resynchronization.</summary>
    public CachedMaster? Cached { get; private set; }

    public MasterLinkState State { get; private set; } = MasterLinkState.Connect;

    public bool IsConnected => State == MasterLinkState.Connected;

    /// <summary>Last time anything came from the master (Environment.TickCount64).</summary>
    public long LastIoMs { get; private set; } = Environment.TickCount64;

    /// <summary>When the link went down; -1 when it was never up.</summary>
    public long LinkDownSinceMs { get; private set; } = -1;

    /// <summary>Payload bytes announced (-1 before the $ line, 0 for an EOF-framed payload) and received.</summary>
    public long SyncTotalBytes { get; private set; } = -1;

    public long SyncReadBytes { get; private set; }

    /// <summary>ROLE's state word.</summary>
    public string RoleState => State switch
    {
        MasterLinkState.Connect => "connect",
        MasterLinkState.Connecting => "connecting",
        MasterLinkState.Handshake => "handshake",
        MasterLinkState.Transfer => "sync",
        _ => "connected",
    };

    /// <summary>The master client applying the stream, when connected.</summary>
    public Client? MasterClient => _masterClient;

    /// <summary>
    /// The database the stream we forward is in at our offset: the master client's (a SELECT queued in a
    /// transaction not yet complete does not count, as its bytes are not forwarded yet), or the cached
    /// one's while the link is down. A payload we serve must start its replica there (repl-stream-db),
    /// since what follows it is our master's stream verbatim, with no SELECT of ours (Redis's
    /// rdbPopulateSaveInfo for a replica).
    /// </summary>
    public int StreamDb => _masterClient?.Db ?? Cached?.Db ?? 0;

    public void Start()
    {
        _thread = new Thread(Run) { IsBackground = true, Name = "psyncd master link" };
        _thread.Start();
    }

    /// <summary>Ends the link for good (SLAVEOF NO ONE or another master); inside the loop.</summary>
    public void Stop(string reason)
    {
        _stop.Cancel();
        _manager.Log.Notice("Dropping the link with MASTER " + Host + ":" + Port + ": " + reason);
        if (_masterClient is not null)
            CacheMaster();
        Abort();
    }

    /// <summary>Ends the current connection, whoever owns it (any thread); the link's thread notices.</summary>
    private void Abort()
    {
        lock (_sync)
        {
            if (_connection is { } connection)
                connection.Close();
            else
                _socket?.Abort();
        }
    }

    /// <summary>The link's thread: connect, synchronize, stream, and again after a failure, until stopped.</summary>
    private void Run()
    {
        var token = _stop.Token;
        bool first = true;
        while (true)
        {
            // SLAVEOF logged the first "Connecting to MASTER"; Redis's cron logs each later attempt the same way.
            if (!first)
                _manager.Log.Notice("Connecting to MASTER " + Host + ":" + Port);
            first = false;
            string? reason = null;
            // Redis's cadence: its cron reconnects once a second after a connection-level failure.
            long delayMs = 1000;
            bool timedOut = false;
            try
            {
                reason = SyncAndStream(token);
            }
            catch (PayloadRefusedException e)
            {
                // Already logged, in one line; a payload that cannot load will not load a second later.
                delayMs = e.RetryInMs;
            }
            catch (TimeoutException e)
            {
                // Redis's replicationCron words, logged as is: the suites and operators grep for them.
                reason = e.Message;
                timedOut = true;
            }
            catch (Exception e) when (e is IOException or SocketException or InvalidDataException or ObjectDisposedException)
            {
                reason = e.Message;
            }
            catch (Exception e)
            {
                reason = "unexpected error: " + e;
            }
            lock (_sync)
            {
                _socket?.Dispose();
                _socket = null;
                _connection = null;
            }
            _manager.Loop.Enter();
            try
            {
                if (token.IsCancellationRequested)
                {
                    // Stopped (SLAVEOF): the role, the history and the log lines are the new owner's now.
                    DropMasterClient();
                    return;
                }
                if (LinkLost(reason, timedOut))
                {
                    // Redis 7 reconnects at once when it loses a streaming master rather than at its next
                    // cron: every second away is a second of writes the master's backlog must still hold.
                    _manager.Log.Notice("Reconnecting to MASTER " + Host + ":" + Port);
                    delayMs = 0;
                    first = true;
                }
            }
            finally
            {
                _manager.Loop.Exit();
            }
            if (token.WaitHandle.WaitOne(TimeSpan.FromMilliseconds(delayMs)))
                return;
        }
    }

    /// <summary>Inside the loop: the link is gone; keep the history for the next PSYNC. True when it was streaming.</summary>
    private bool LinkLost(string? reason, bool timedOut)
    {
        bool streaming = State == MasterLinkState.Connected;
        if (streaming)
        {
            _manager.Log.Notice("Connection with master lost: " + reason);
            if (_masterClient is not null)
                CacheMaster();
            LinkDownSinceMs = Environment.TickCount64;
        }
        else if (timedOut)
        {
            _manager.Log.Warning(reason!);
        }
        else if (!_stop.IsCancellationRequested && reason is not null)
        {
            _manager.Log.Warning("Error condition on socket for SYNC with " + Host + ":" + Port + ": " + reason);
        }
        DropMasterClient();
        _manager.State.MasterLinkUp = false;
        return streaming;
    }

    /// <summary>Inside the loop: forgets the master client (its connection removed it from the registry already, unless it never had one).</summary>
    private void DropMasterClient()
    {
        if (_masterClient is not null)
        {
            _manager.Registry.RemoveClient(_masterClient, "master link lost");
            _masterClient = null;
        }
        _pendingTransaction.Clear();
        State = MasterLinkState.Connect;
    }

    private void CacheMaster()
    {
        // Only whole applied commands count: a transaction half received is not in the offset, and its
        // SELECTs (queued, not run) are not in the database either.
        Cached = new CachedMaster(_manager.ReplId, _manager.Stream.MasterReplOffset, _masterClient!.Db);
        _manager.Log.Notice("Caching the disconnected master state.");
    }

    /// <summary>One connection to the master, from connect to the end of its stream; returns why it ended.</summary>
    private string? SyncAndStream(CancellationToken token)
    {
        var options = _manager.Options;
        State = MasterLinkState.Connecting;
        _manager.Log.Notice("MASTER <-> REPLICA sync started");
        LinkSocket socket;
        try
        {
            socket = LinkSocket.Connect(Host, Port, ReplTimeoutMs, noDelay: !options.ReplDisableTcpNodelay);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException("Timeout connecting to the MASTER...");
        }
        lock (_sync)
            _socket = socket;
        if (token.IsCancellationRequested)
            return null; // stopped while connecting: Stop found no socket to abort
        _manager.Log.Notice("Non blocking connect for SYNC fired the event.");
        State = MasterLinkState.Handshake;

        // PING first, alone: only a master able to answer it is worth the rest.
        Send(socket, "PING");
        string pong = ReadReplyLine(socket);
        if (pong.StartsWith('-') && !pong.StartsWith("-NOAUTH", StringComparison.Ordinal) && !pong.StartsWith("-NOPERM", StringComparison.Ordinal)
            && !pong.StartsWith("-ERR operation not permitted", StringComparison.Ordinal))
            throw new InvalidDataException("Error reply to PING from master: '" + pong + "'");
        _manager.Log.Notice("Master replied to PING, replication can continue...");

        if (options.MasterAuth.Length > 0)
        {
            Send(socket, "AUTH", options.MasterAuth);
            string auth = ReadReplyLine(socket);
            if (auth.StartsWith('-'))
                throw new InvalidDataException("Unable to AUTH to MASTER: " + auth);
        }
        int announcedPort = options.SlaveAnnouncePort != 0 ? options.SlaveAnnouncePort : _manager.Identity.BoundPort;
        Send(socket, "REPLCONF", "listening-port", announcedPort.ToString(CultureInfo.InvariantCulture));
        string portReply = ReadReplyLine(socket);
        if (portReply.StartsWith('-'))
            _manager.Log.Notice("(Non critical) Master does not understand REPLCONF listening-port: " + portReply);
        if (options.SlaveAnnounceIp.Length > 0)
        {
            Send(socket, "REPLCONF", "ip-address", options.SlaveAnnounceIp);
            ReadReplyLine(socket);
        }
        Send(socket, "REPLCONF", "capa", "eof", "capa", "psync2");
        string capaReply = ReadReplyLine(socket);
        if (capaReply.StartsWith('-'))
            _manager.Log.Notice("(Non critical) Master does not understand REPLCONF capa: " + capaReply);

        // PSYNC with the history we hold, or "? -1" when there is none.
        CachedMaster? cached;
        _manager.Loop.Enter();
        try
        {
            cached = Cached;
        }
        finally
        {
            _manager.Loop.Exit();
        }
        if (cached is not null)
        {
            _manager.Log.Notice("Trying a partial resynchronization (request " + cached.ReplId + ":" + (cached.Offset + 1) + ").");
            Send(socket, "PSYNC", cached.ReplId, (cached.Offset + 1).ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            _manager.Log.Notice("Partial resynchronization not possible (no cached master)");
            Send(socket, "PSYNC", "?", "-1");
        }
        string reply = ReadReplyLine(socket);
        _prePsync = false;
        if (reply.StartsWith("+FULLRESYNC", StringComparison.Ordinal))
        {
            var parts = reply.Split(' ');
            string replId = parts.Length > 1 && parts[1].Length == 40 ? parts[1] : ReplicationManager.NoReplId;
            long offset = parts.Length > 2 && long.TryParse(parts[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long o) ? o : -1;
            _manager.Log.Notice("Full resync from master: " + replId + ":" + offset);
            ReceivePayload(socket, replId, offset);
        }
        else if (reply.StartsWith("+CONTINUE", StringComparison.Ordinal))
        {
            string newId = reply.Length > 10 ? reply[10..].Trim() : "";
            _manager.Loop.Enter();
            try
            {
                _manager.Log.Notice("Successful partial resynchronization with master.");
                if (newId.Length == 40 && !string.Equals(newId, _manager.ReplId, StringComparison.OrdinalIgnoreCase))
                {
                    _manager.ContinueWithNewId(newId);
                    _manager.Log.Notice("Master replication ID changed to " + newId);
                    // Our replicas know the old id only: they reconnect and continue with it as replid2.
                    _manager.DisconnectReplicas("master replication ID changed");
                }
                // Restarted on a dump, we had no backlog yet: from here on we keep one, so that our own
                // replicas (and, after a promotion, the other replicas of our master) can continue with us.
                _manager.EnsureBacklog();
                // The stream goes on in the database it was in when we cached it.
                StartStreaming(socket, cached?.Offset ?? _manager.Stream.MasterReplOffset, cached?.Db ?? 0);
            }
            finally
            {
                _manager.Loop.Exit();
            }
            _manager.Log.Notice("MASTER <-> REPLICA sync: Master accepted a Partial Resynchronization.");
        }
        else if (reply.StartsWith("-NOMASTERLINK", StringComparison.Ordinal) || reply.StartsWith("-LOADING", StringComparison.Ordinal))
        {
            throw new InvalidDataException("Master is currently unable to PSYNC but should be in the future: " + reply);
        }
        else
        {
            // A master that does not know PSYNC: plain SYNC on the same connection. It will not expect ACKs.
            _manager.Log.Warning("Unexpected reply to PSYNC from master: " + reply + "; retrying with SYNC...");
            _prePsync = true;
            socket.Send("SYNC\r\n"u8);
            ReceivePayload(socket, ReplicationManager.NoReplId, -1);
        }
        return StreamUntilLost(socket, _masterClient!);
    }

    /// <summary>
    /// Gives the connection to the event loop, where the master's stream is read and applied as the master client's
    /// input, and waits until it ends; returns why.
    /// </summary>
    private string? StreamUntilLost(LinkSocket socket, Client master)
    {
        var ended = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var events = _manager.Events();
        events.Post(() => Adopt(socket, master, events, ended));
        string? reason = ended.Task.GetAwaiter().GetResult();
        return reason is null or "client closed connection" ? "connection closed by master" : reason;
    }

    /// <summary>
    /// On the event loop's thread: the descriptor becomes the master client's connection, and the stream bytes read
    /// with the payload (or the +CONTINUE line) run first, before anything the loop reads from it.
    /// </summary>
    private void Adopt(LinkSocket socket, Client master, EventLoop events, TaskCompletionSource<string?> ended)
    {
        ClientConnection connection;
        try
        {
            lock (_sync)
            {
                if (_stop.IsCancellationRequested)
                {
                    ended.TrySetResult(null);
                    return;
                }
                // Registered first: should that fail, the link's thread still owns (and closes) the descriptor.
                connection = ClientConnection.Adopt(socket.Fd, master, socket.Buffered, reason => ended.TrySetResult(reason), events,
                    _manager.Loop, _manager.Processor, _manager.Registry, _manager.Stats, _manager.Options, _manager.Log);
                socket.Detach();
                _socket = null;
                _connection = connection;
            }
        }
        catch (Exception e)
        {
            ended.TrySetException(e);
            return;
        }
        connection.RunReceived();
    }

    /// <summary>Receives the RDB payload of a full resynchronization into a file, then loads it inside the loop.</summary>
    private void ReceivePayload(LinkSocket socket, string replId, long offset)
    {
        State = MasterLinkState.Transfer;
        SyncTotalBytes = -1;
        SyncReadBytes = 0;
        string header = ReadReplyLine(socket);
        if (!header.StartsWith('$'))
            throw new InvalidDataException("Bad protocol from MASTER, the first byte is not '$' (we received '" + header + "'), are you sure the host and port are right?");
        string temp = Path.Combine(_manager.Options.Dir, "temp-" + DateTimeOffset.UtcNow.ToUnixTimeSeconds() + "." + Environment.ProcessId + ".rdb");
        try
        {
            ReceiveAndLoad(socket, header, temp, replId, offset);
        }
        finally
        {
            // A transfer cut short, or a payload refused, leaves nothing behind (Redis unlinks its temp file too).
            if (File.Exists(temp))
                File.Delete(temp);
        }
        // An EOF-framed payload has no length: the master waits for this ACK to start the stream.
        if (!_prePsync)
        {
            Span<byte> ack = stackalloc byte[64];
            socket.Send(ack[..WriteAck(ack, offset)]);
        }
    }

    private void ReceiveAndLoad(LinkSocket socket, string header, string temp, string replId, long offset)
    {
        using (var file = new FileStream(temp, FileMode.Create, FileAccess.ReadWrite, FileShare.None, 1 << 16))
        {
            if (header.StartsWith("$EOF:", StringComparison.Ordinal))
            {
                var mark = Encoding.ASCII.GetBytes(header.Substring(5, 40));
                SyncTotalBytes = 0;
                _manager.Log.Notice("MASTER <-> REPLICA sync: receiving streamed RDB from master with EOF to disk");
                ReceiveUntilMark(socket, file, mark);
            }
            else
            {
                if (!long.TryParse(header.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out long size))
                    throw new InvalidDataException("Bad protocol from MASTER, bad payload length in '" + header + "'");
                SyncTotalBytes = size;
                _manager.Log.Notice("MASTER <-> REPLICA sync: receiving " + size + " bytes from master to disk");
                ReceiveExactly(socket, file, size);
            }
            file.Flush(flushToDisk: true);
        }

        string target = Path.Combine(_manager.Options.Dir, _manager.Options.DbFilename);
        // The load holds the loop for as long as it takes and lets other clients in every 50 ms to answer
        // them -LOADING (on the event loop's thread, which this one is not).
        _manager.Loop.Enter();
        try
        {
            _manager.Log.Notice("MASTER <-> REPLICA sync: Flushing old data");
            // The new dataset replaces everything: our replicas must start over, the backlog too, and the
            // history we could have asked PSYNC to continue described the data about to go.
            _manager.DisconnectReplicas("full resynchronization with my master");
            _manager.Stream.Backlog = null;
            Cached = null;
            _manager.Log.Notice("MASTER <-> REPLICA sync: Loading DB in memory");
            ReplicationPoint? point;
            try
            {
                point = _manager.Rdb.LoadReplacingDataset(temp);
            }
            catch (Exception e)
            {
                throw RefusePayload(e);
            }
            // Only a payload that loaded becomes the dump file: a restart never meets one it cannot load.
            File.Move(temp, target, overwrite: true);
            int db = point?.StreamDb ?? 0;
            // The log first (the relay log): its new base is this payload, so a crash from here on restarts on it.
            _manager.Aof?.StartOverFrom(target, new ReplicationPoint(replId, offset, db));
            _manager.AdoptMasterHistory(replId, offset);
            StartStreaming(socket, offset, db);
            _refusedPayloads = 0;
            _manager.Log.Notice("MASTER <-> REPLICA sync: Finished with success");
        }
        finally
        {
            _manager.Loop.Exit();
        }
    }

    /// <summary>
    /// Inside the loop, when the payload of a full resynchronization failed to load (a value type psyncd does
    /// not have, such as a stream; corrupt or truncated RDB data; anything the loader threw): empties the
    /// dataset, logs one line, and says how long to wait before the next full sync.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The rule, from Redis 7.0's readSyncBulkPayload: the replica flushes its old data before it loads (it
    /// logs "Flushing old data"), and a load that fails never leaves what it loaded so far: a diskless load
    /// empties the databases again, a disk load of a corrupt file even stops the server. psyncd empties the
    /// dataset and keeps running. Until a full sync succeeds the replica then answers with an empty dataset
    /// (replica-serve-stale-data yes) or -MASTERDOWN (no), never with part of the master's. During the load
    /// itself, commands without the loading flag answer -LOADING, as Redis's do.
    /// </para>
    /// <para>
    /// Nothing may continue the old history from this empty dataset: neither a PSYNC after a restart on a
    /// dump saved now, nor a sub-replica after a promotion. Redis saves no replication info without a master
    /// client; psyncd leaves the old history behind a new id.
    /// </para>
    /// <para>
    /// Each full sync costs the master a snapshot, and a payload refused once is refused again as long as the
    /// master holds the same data: consecutive refusals wait 1, 2, 4 ... seconds, capped at
    /// <see cref="MaxRefusalBackoffSeconds"/>, and a successful sync resets the count. Connection failures keep
    /// the one-second cadence.
    /// </para>
    /// </remarks>
    private PayloadRefusedException RefusePayload(Exception e)
    {
        _manager.Keyspace.FlushAll();
        _manager.ForgetHistory();
        _refusedPayloads++;
        int wait = RefusalBackoffSeconds(_refusedPayloads);
        // An expected refusal is described in its own words; only a loader bug earns a stack trace.
        string what = e is RdbCorruptException bad
            ? (bad.Unsupported ? "refused: " : "corrupt: ") + bad.Describe()
            : "could not be loaded (unexpected error): " + e;
        _manager.Log.Warning("MASTER <-> REPLICA sync: the master's payload " + what + ". Dataset emptied; next full sync in " + wait + " s");
        return new PayloadRefusedException(wait * 1000L);
    }

    /// <summary>The longest wait between two full syncs whose payloads were refused: a minute.</summary>
    public const int MaxRefusalBackoffSeconds = 60;

    /// <summary>Seconds to wait after the <paramref name="refused"/>th refused payload in a row: 1, 2, 4 ... 60.</summary>
    internal static int RefusalBackoffSeconds(int refused) =>
        refused >= 7 ? MaxRefusalBackoffSeconds : Math.Min(MaxRefusalBackoffSeconds, 1 << Math.Max(0, refused - 1));

    /// <summary>Payloads refused by the loader since the last successful full sync.</summary>
    private int _refusedPayloads;

    /// <summary>A payload the loader refused; logged already, the dataset emptied.</summary>
    private sealed class PayloadRefusedException(long retryInMs) : Exception("payload refused by the loader")
    {
        public long RetryInMs { get; } = retryInMs;
    }

    /// <summary>Inside the loop: creates the master client, in the stream's database <paramref name="db"/>, and marks the link connected.</summary>
    private void StartStreaming(LinkSocket socket, long offset, int db)
    {
        // Its replies are dropped, as Redis's master client's; ACKs go to the connection's own writer (SendAck).
        var client = new Client(new ClientOutput(_manager.Loop), socket.RemoteEndPoint, socket.LocalEndPoint) { Fd = socket.Fd };
        client.Flags |= ClientFlags.Master;
        client.Output.TrackErrors = true;
        _manager.Registry.AddClient(client);
        client.Authenticated = true;
        client.Db = db;
        _masterClient = client;
        _lastSecondLagMs = 0;
        _pendingTransaction.Clear();
        Cached = null;
        State = MasterLinkState.Connected;
        LastIoMs = Environment.TickCount64;
        LinkDownSinceMs = -1;
        _manager.State.MasterLinkUp = true;
        _manager.Log.Notice("MASTER <-> REPLICA sync: streaming from offset " + offset);
    }

    /// <summary>
    /// Inside the loop, after the master client applied one request: forward its bytes to our own
    /// replicas and backlog, verbatim, which also advances our offset. A transaction is forwarded whole
    /// at its EXEC (the offset counts only applied commands).
    /// </summary>
    internal void OnRequestApplied(Client master, ReadOnlySpan<byte> request)
    {
        LastIoMs = Environment.TickCount64;
        if (master.MultiQueue is not null)
        {
            _pendingTransaction.WriteRaw(request);
            return;
        }
        if (_pendingTransaction.Length > 0)
        {
            _manager.Stream.AppendVerbatim(_pendingTransaction.WrittenSpan);
            _pendingTransaction.Clear();
        }
        _manager.Stream.AppendVerbatim(request);
    }

    /// <summary>Sends REPLCONF ACK with our applied offset (every second, on GETACK); inside the loop.</summary>
    public void SendAck()
    {
        var connection = Volatile.Read(ref _connection);
        // Only while the master client is registered: its connection's teardown removes it inside the loop before
        // closing the writer, which must not be written meanwhile.
        if (connection is null || _prePsync || !_pendingAckFlush.IsCompleted || _masterClient is not { } master
            || master.Connection != connection || !_manager.Registry.Clients.ContainsKey(master.Id))
            return;
        var writer = connection.Writer;
        writer.Advance(WriteAck(writer.GetSpan(64), _manager.Stream.MasterReplOffset));
        var flush = writer.FlushAsync();
        if (!flush.IsCompleted)
            _pendingAckFlush = flush.AsTask();
    }

    /// <summary>INFO's <c>master_lag_ms</c>: the longest read-to-applied wait of the stream, this second and the last; -1 while down (see AppendInfo).</summary>
    public long LagMs => _masterClient is { } master && IsConnected ? Math.Max(_lastSecondLagMs, master.MaxApplyDelayTicks * 1000 / Stopwatch.Frequency) : -1;
    private long _lastSecondLagMs;

    /// <summary>Once a second, inside the loop: ACK, and give up on a master silent for repl-timeout.</summary>
    internal void Cron(long now)
    {
        if (_masterClient is { } master)
            (_lastSecondLagMs, master.MaxApplyDelayTicks) = (master.MaxApplyDelayTicks * 1000 / Stopwatch.Frequency, 0);
        if (State == MasterLinkState.Connected)
        {
            SendAck();
            if (now - LastIoMs > _manager.Options.ReplTimeout * 1000L)
            {
                _manager.Log.Warning("MASTER timeout: no data nor PING received...");
                Abort();
            }
        }
    }
}
