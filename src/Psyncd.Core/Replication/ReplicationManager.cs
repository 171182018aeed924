using Psyncd.Blocking;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Network;
using Psyncd.Persistence;
using Psyncd.Replication.Master;
using Psyncd.Replication.Replica;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.Replication;

/// <summary>
/// Replication state and duties of this server, in both roles: as a master (its replicas, the backlog,
/// PSYNC, ACKs, WAIT) in <c>ReplicationManager.MasterRole.cs</c>, and as a replica (the link to its master)
/// in <see cref="MasterLink"/>. Everything here runs inside the command loop unless a method says so.
/// </summary>
/// <remarks>
/// Replication ids (PSYNC2): <see cref="ReplId"/> names the history this server's stream belongs to.
/// <see cref="ReplId2"/> is the history it continued from (after a promotion, or a +CONTINUE with a new
/// id), valid up to <see cref="SecondReplOffset"/>: a PSYNC naming the old id with an offset up to that
/// point can still continue (mirrors Redis's shiftReplicationId).
/// </remarks>
public sealed partial class ReplicationManager : IMasterStream, IClientLifecycle, IReplicationHistory
{
    void IClientLifecycle.ClientRemoved(Client client) => OnClientRemoved(client);

    /// <summary>A replid that means "none" (40 zeros), as INFO shows master_replid2 when unset.</summary>
    public const string NoReplId = "0000000000000000000000000000000000000000";

    private readonly List<ReplicaLink> _replicas = new();

    /// <summary>
    /// The replica link of each client that spoke REPLCONF or SYNC (Redis keeps it in the client struct; here
    /// the client belongs to Execution, which must not name Replication's types). Inside the loop only.
    /// </summary>
    private readonly Dictionary<Client, ReplicaLink> _links = new();

    /// <summary>When the master last had no replica (for repl-backlog-ttl), Environment.TickCount64.</summary>
    private long _noReplicasSinceMs = Environment.TickCount64;

    private long _lastPingMs = Environment.TickCount64;

    private readonly BlockingRegistry _blocking;

    /// <summary>Sends the stream to the replicas once per pass of the event loop (see <see cref="ReplicaFlusher"/>).</summary>
    private readonly ReplicaFlusher _flusher;

    public ReplicationManager(ServerOptions options, ServerLog log, CommandLoop loop, Keyspace keyspace, ReplicationStream stream,
        ClientRegistry registry, CommandProcessor processor, ServerStats stats, ServerIdentity identity, BlockingRegistry blocking,
        RdbPersistence rdb, ReplicationState state, MemoryMonitor memory)
    {
        Options = options;
        Log = log;
        Loop = loop;
        Keyspace = keyspace;
        Stream = stream;
        Registry = registry;
        Processor = processor;
        Stats = stats;
        Identity = identity;
        _blocking = blocking;
        Rdb = rdb;
        State = state;
        Memory = memory;
        state.ReplicaOutputBytes = ReplicaOutputBytes;
        ReplId = NewReplId();
        _flusher = new ReplicaFlusher(loop);
    }

    /// <summary>What the replicas' outputs hold now (inside the loop): see <see cref="ReplicationState.ReplicaOutputBytes"/>.</summary>
    private long ReplicaOutputBytes()
    {
        long bytes = 0;
        foreach (var replica in _replicas)
            bytes += replica.Client.Output.UnsentBytes;
        return bytes;
    }

    // The components both roles work with (MasterLink reaches them through its manager).
    internal ServerOptions Options { get; }

    internal ServerLog Log { get; }

    internal CommandLoop Loop { get; }

    internal Keyspace Keyspace { get; }

    internal ReplicationStream Stream { get; }

    internal ClientRegistry Registry { get; }

    internal CommandProcessor Processor { get; }

    internal ServerStats Stats { get; }

    internal ServerIdentity Identity { get; }

    /// <summary>The server's event loop, where the link to our master runs once its stream starts (set by the root).</summary>
    internal Func<EventLoop> Events { get; set; } = () => throw new InvalidOperationException("the root gives replication its event loop");

    public string ReplId
    {
        get => _replId;
        private set
        {
            _replId = value;
            // The log records the id its stream belongs to: a restart continues that history.
            Aof?.NoteReplId(value);
        }
    }

    private string _replId = NoReplId;

    /// <summary>The durable log (appendonly), set by the root; null when not built.</summary>
    public AppendOnlyFile? Aof { get; set; }

    public string ReplId2 { get; private set; } = NoReplId;

    /// <summary>Last offset (plus one) up to which <see cref="ReplId2"/> is valid; -1 when unset.</summary>
    public long SecondReplOffset { get; private set; } = -1;

    /// <summary>Persistence, for full-sync payloads and for loading them.</summary>
    internal RdbPersistence Rdb { get; }

    /// <summary>used_memory, the dataset's size when PSYNC weighs the log on disk against a full sync.</summary>
    internal MemoryMonitor Memory { get; }

    /// <summary>Replicas attached to this server, in any state.</summary>
    public IReadOnlyList<ReplicaLink> Replicas => _replicas;

    /// <summary>The role as the rest of the server reads it (IsReplica, MasterLinkUp, GoodReplicaCount); built by the root.</summary>
    public ReplicationState State { get; }

    /// <inheritdoc/>
    public void OnMasterRequestApplied(Client master, ReadOnlySpan<byte> request) => MasterLink?.OnRequestApplied(master, request);

    /// <summary>The link to our master when this server is a replica (setting it sets <see cref="ReplicationState.IsReplica"/>).</summary>
    public MasterLink? MasterLink
    {
        get => _master;
        private set
        {
            _master = value;
            State.IsReplica = value is not null;
        }
    }

    private MasterLink? _master;

    public static string NewReplId() => OsRandom.Hex(20);

    /// <summary>
    /// Starts a new history: a new id, the old one kept as <see cref="ReplId2"/> valid up to the current
    /// offset. The replica asks for the first byte it lacks, so it can continue with the old id if it
    /// asks for master_repl_offset + 1 or less.
    /// </summary>
    public void ShiftReplicationId()
    {
        ReplId2 = ReplId;
        SecondReplOffset = Stream.MasterReplOffset + 1;
        ReplId = NewReplId();
        Log.Notice("Setting secondary replication ID to " + ReplId2 + ", valid up to offset: " + SecondReplOffset + ". New replication ID is " + ReplId);
    }

    /// <summary>Forgets the secondary id (a new, unrelated history begins).</summary>
    public void ClearReplicationId2()
    {
        ReplId2 = NoReplId;
        SecondReplOffset = -1;
    }

    /// <summary>Adopts the history of a master we fully synchronized from.</summary>
    internal void AdoptMasterHistory(string replId, long offset)
    {
        ReplId = replId;
        ClearReplicationId2();
        Stream.MasterReplOffset = offset;
        Stream.Backlog = new ReplicationBacklog(Options.ReplBacklogSize, offset + 1);
    }

    /// <summary>
    /// Leaves the current history behind a new id, with no secondary one, after a failed load emptied the
    /// dataset: no replica, and no restart of this server, can continue it from the data now held.
    /// </summary>
    internal void ForgetHistory()
    {
        ReplId = NewReplId();
        ClearReplicationId2();
    }

    /// <summary>Creates an empty backlog whose first byte will be the stream's next one, unless one exists.</summary>
    internal void EnsureBacklog()
    {
        Stream.Backlog ??= NewBacklog(Stream.MasterReplOffset + 1);
    }

    /// <summary>
    /// A backlog whose next byte is <paramref name="nextOffset"/>, holding as much of the history before it as the
    /// durable log has (after a restart the RAM backlog starts where the log ends, not empty).
    /// </summary>
    internal ReplicationBacklog NewBacklog(long nextOffset)
    {
        var backlog = new ReplicationBacklog(Options.ReplBacklogSize, nextOffset);
        if (Aof is not { } aof)
            return backlog;
        long from = Math.Max(Math.Max(1, aof.FirstStreamOffset), nextOffset - backlog.Size);
        if (from >= nextOffset || aof.TryOpenRange(from, nextOffset - 1) is not { } read)
            return backlog;
        var filled = new ReplicationBacklog(Options.ReplBacklogSize, from);
        return read(chunk => filled.Append(chunk.Span)) && filled.NextOffset == nextOffset ? filled : backlog;
    }

    /// <summary>A +CONTINUE with a new id: the master's history continues ours under another name.</summary>
    internal void ContinueWithNewId(string replId)
    {
        ReplId2 = ReplId;
        SecondReplOffset = Stream.MasterReplOffset + 1;
        ReplId = replId;
    }

    /// <summary>The once-a-second duties of both roles (Redis's replicationCron).</summary>
    public void Cron()
    {
        long now = Environment.TickCount64;
        MasterLink?.Cron(now);
        MasterCron(now);
    }

    /// <summary>The replica link of <paramref name="client"/>, or null when it never spoke REPLCONF or SYNC.</summary>
    internal ReplicaLink? LinkOf(Client client) => _links.GetValueOrDefault(client);

    /// <summary>The replica link of <paramref name="client"/>, created by its first REPLCONF or SYNC.</summary>
    internal ReplicaLink GetOrAddLink(Client client)
    {
        if (!_links.TryGetValue(client, out var link))
            _links[client] = link = new ReplicaLink(client, _flusher);
        return link;
    }

    /// <summary>Drops the replication state of a client that disconnected.</summary>
    public void OnClientRemoved(Client client)
    {
        if (!_links.Remove(client, out var link))
            return;
        if (_replicas.Remove(link))
        {
            Stream.RemoveListener(link);
            Log.Notice("Connection with replica " + link.Ip + ":" + link.ListeningPort + " lost.");
            if (_replicas.Count == 0)
                _noReplicasSinceMs = Environment.TickCount64;
            UpdateGoodReplicas(Environment.TickCount64);
        }
    }

    // ------------------------------------------------------------------
    // Role changes
    // ------------------------------------------------------------------

    /// <summary>
    /// SLAVEOF host port: become a replica of that master. Our own history is kept as the cached master,
    /// so that the first PSYNC can continue it if the master shares it.
    /// </summary>
    public void BecomeReplicaOf(string host, int port)
    {
        bool wasMaster = MasterLink is null;
        MasterLink?.Stop("master changed");
        Options.SlaveOf = new MasterAddress(host, port);
        Log.Role = 'S';
        // Keys are never expired by a replica on its own: its master sends DELs.
        State.MasterLinkUp = false;
        // A master being demoted can continue its own history with the new master (PSYNC2); a replica
        // restarted on its RDB continues the history the RDB recorded.
        var cached = _restoredCache ?? (wasMaster ? new CachedMaster(ReplId, Stream.MasterReplOffset, Math.Max(0, Stream.StreamDb)) : MasterLink?.Cached);
        _restoredCache = null;
        DisconnectBlockedClients();
        MasterLink = new MasterLink(this, host, port, cached);
        Log.Notice("Connecting to MASTER " + host + ":" + port);
        MasterLink.Start();
    }

    /// <summary>SLAVEOF NO ONE: become a master, keeping the history (PSYNC2: the old id becomes replid2).</summary>
    public void BecomeMaster()
    {
        if (MasterLink is null)
            return;
        MasterLink.Stop("promoted to master");
        MasterLink = null;
        Options.SlaveOf = null;
        Log.Role = 'M';
        State.MasterLinkUp = false;
        ShiftReplicationId();
        Stream.ResetStreamDb();
        // Replicas reconnect and, knowing our old id, continue with a partial resynchronization.
        DisconnectReplicas("promoted to master");
        _noReplicasSinceMs = Environment.TickCount64;
    }

    /// <summary>
    /// Inside the loop, when this server turns replica: every blocked client (BLPOP and friends, WAIT) gets
    /// Redis's UNBLOCKED error and is closed after it. None may wait on: a replica's keys change only by its
    /// master's stream, which must not feed pops of our own.
    /// </summary>
    private void DisconnectBlockedClients()
    {
        _blocking.FailAll(ErrorReplies.UnblockedRoleChange);
        FailWaiters(ErrorReplies.UnblockedRoleChange);
    }

    /// <summary>Closes every replica's connection (they reconnect and resynchronize).</summary>
    public void DisconnectReplicas(string reason)
    {
        foreach (var link in _replicas.ToList())
        {
            Log.Notice("Disconnecting replica " + link.Ip + ":" + link.ListeningPort + ": " + reason);
            link.Client.CloseAsap();
        }
    }
}
