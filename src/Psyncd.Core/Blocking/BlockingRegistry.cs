using Psyncd.Commands;
using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Blocking;

/// <summary>
/// Clients blocked on list and sorted set keys, as Redis's blocking.c keeps them: per (database, key) a queue of clients in
/// arrival order. A blocked client has <see cref="ClientFlags.Blocked"/>, so its input waits unread.
/// </summary>
/// <remarks>
/// Every modified key that someone waits on is noted as <i>ready</i> (through the keyspace's modified-key
/// event); after each top-level command (or EXEC, or a command of our master's stream) the ready keys are
/// served: each waiting client, first come first served, gets an element while the key holds a list with
/// elements. Serving writes (a pop, a push for BRPOPLPUSH) may make further keys ready, which are served in
/// the same pass. The cron ends waits whose timeout passed with a nil multi-bulk. Served pops are
/// propagated as the non-blocking command (LPOP/RPOP, RPOPLPUSH/LMOVE). Touched only inside the loop.
/// </remarks>
public sealed class BlockingRegistry : IClientLifecycle, IKeyspaceListener, IAfterCommand
{
    void IKeyspaceListener.KeyModified(int db, ReadOnlySpan<byte> key) => OnKeyModified(db, key);

    // A flush deletes keys nobody waits on as lists with elements: nothing becomes ready.
    void IKeyspaceListener.DatabaseFlushed(int db)
    {
    }

    void IAfterCommand.AfterCommand() => ServeReadyKeys();

    void IClientLifecycle.ClientRemoved(Client client) => Unblock(client, resume: false);

    private readonly Keyspace _keyspace;
    private readonly PropagationList _propagation;
    private readonly IEffectsSink _effects;
    private readonly ReplicationState _role;
    private readonly Dictionary<byte[], List<Client>>[] _waiters;
    private readonly HashSet<Client> _blocked = new();
    private List<(int Db, byte[] Key)> _ready = new();
    private List<(int Db, byte[] Key)> _serving = new();
    private readonly HashSet<(int, byte[])> _readySet = new(ReadyKeyComparer.Instance);

    private readonly IKeyspaceNotifier _notifier;

    public BlockingRegistry(int databases, Keyspace keyspace, PropagationList propagation, IEffectsSink effects, ReplicationState role,
        IKeyspaceNotifier notifier)
    {
        _keyspace = keyspace;
        _notifier = notifier;
        _propagation = propagation;
        _effects = effects;
        _role = role;
        _waiters = new Dictionary<byte[], List<Client>>[databases];
        for (int i = 0; i < _waiters.Length; i++)
            _waiters[i] = new Dictionary<byte[], List<Client>>(ByteArrayComparer.Instance);
    }

    /// <summary>Clients blocked right now.</summary>
    public int Count => _blocked.Count;

    /// <summary>
    /// False when the calling context must not block and should answer as on a timeout: inside MULTI/EXEC,
    /// and for our master's stream.
    /// </summary>
    public static bool CanBlock(CommandContext ctx)
        => !ctx.InExec && !ctx.Client.Has(ClientFlags.Master) && ctx.Client.MultiQueue is null;

    /// <summary>
    /// Parses a timeout in seconds as Redis 7.0 does (a long double, times 1000, rounded up to milliseconds);
    /// replies the error and returns false when invalid. 0 means forever.
    /// </summary>
    public static bool TryParseTimeout(CommandContext ctx, ReadOnlySpan<byte> arg, out long milliseconds)
    {
        milliseconds = 0;
        if (!LongDouble.TryParse(arg, out var parsed))
        {
            ctx.Reply.WriteError("ERR timeout is not a float or out of range");
            return false;
        }
        // In long double and rounded up, as Redis 7.0 computes it: 0.0001 s waits 1 ms, never 0 (forever).
        // A value out of long long's range converts to LLONG_MIN in C on x86: "negative".
        if (!LongDouble.Multiply(parsed, 1000).TryCeiling(out long value) || value < 0)
        {
            ctx.Reply.WriteError(ErrorReplies.TimeoutNegative);
            return false;
        }
        if (value > 0 && value > long.MaxValue - ctx.Keyspace.NowMs)
        {
            ctx.Reply.WriteError("ERR timeout is out of range");
            return false;
        }
        milliseconds = value;
        return true;
    }

    /// <summary>Blocks the client until one of <paramref name="state"/>'s keys can serve it, or its timeout.</summary>
    public void Block(Client client, BlockedState state)
    {
        var waiters = _waiters[state.Db];
        var keys = state.Keys;
        for (int i = 0; i < keys.Length; i++)
        {
            if (!waiters.TryGetValue(keys[i], out var queue))
            {
                queue = new List<Client>(1);
                waiters[keys[i]] = queue;
            }
            if (!queue.Contains(client))
                queue.Add(client);
        }
        client.BlockedOn = state;
        client.Flags |= ClientFlags.Blocked;
        _blocked.Add(client);
    }

    /// <summary>Ends a client's wait; with <paramref name="resume"/>, its pending input is processed again.</summary>
    public void Unblock(Client client, bool resume)
    {
        var state = client.BlockedOn;
        if (state is null)
            return;
        var waiters = _waiters[state.Db];
        foreach (var key in state.Keys)
        {
            if (waiters.TryGetValue(key, out var queue))
            {
                queue.Remove(client);
                if (queue.Count == 0)
                    waiters.Remove(key);
            }
        }
        _blocked.Remove(client);
        client.BlockedOn = null;
        client.Flags &= ~ClientFlags.Blocked;
        if (resume)
        {
            // Served: the call ends now, and LATENCY HISTOGRAM counts it (not when it times out or the client leaves).
            if (state.PendingLatency is var (command, microseconds))
                command.RecordLatency(microseconds);
            client.Output.RequestFlush();
            // Not inline: with inline socket scheduling, resuming runs the client's receive continuation on
            // this very thread, which would process its pending input in the middle of this pass.
            if (client.Connection is { } connection)
                connection.Resume();
        }
    }

    /// <summary>
    /// Ends every wait with <paramref name="error"/> and closes each client once it has its reply. For a
    /// master that turns replica: its blocked clients would otherwise be served by the new master's
    /// stream, a pop the master never made, and the replica would diverge (Redis issue #2473).
    /// </summary>
    public void FailAll(ReadOnlySpan<byte> error)
    {
        if (_blocked.Count == 0)
            return;
        foreach (var client in _blocked.ToArray())
        {
            client.Output.WriteError(error);
            client.Flags |= ClientFlags.CloseAfterReply;
            client.BlockedOn!.PendingLatency = null;
            Unblock(client, resume: true);
        }
    }

    private void OnKeyModified(int db, ReadOnlySpan<byte> key)
    {
        if (_blocked.Count == 0 || (uint)db >= (uint)_waiters.Length)
            return;
        var lookup = _waiters[db].GetAlternateLookup<ReadOnlySpan<byte>>();
        if (!lookup.TryGetValue(key, out var actualKey, out _))
            return;
        if (_readySet.Add((db, actualKey)))
            _ready.Add((db, actualKey));
    }

    /// <summary>Serves the clients blocked on keys that became ready (after each top-level command).</summary>
    private void ServeReadyKeys()
    {
        if (_ready.Count == 0)
            return;
        var keyspace = _keyspace;
        keyspace.RefreshTime();
        keyspace.ExpiryMode = _role.IsReplica ? ExpiryMode.Hide : ExpiryMode.Delete;
        while (_ready.Count > 0)
        {
            (_serving, _ready) = (_ready, _serving);
            foreach (var (db, key) in _serving)
            {
                _readySet.Remove((db, key));
                if (!_waiters[db].TryGetValue(key, out var queue))
                    continue;
                // In arrival order; a client waiting for the other type (a list, a sorted set) is passed over
                // and keeps waiting, as in Redis 7.0.
                foreach (var client in queue.ToArray())
                {
                    if (client.BlockedOn is null || client.BlockedOn.Db != db)
                        continue;
                    var served = TryServe(client, db, key);
                    if (served == Serve.KeyEmpty)
                        break;
                }
            }
            _serving.Clear();
        }
    }

    private enum Serve
    {
        Served,

        /// <summary>The key holds the other type: this client waits on, the next may be served.</summary>
        OtherType,

        /// <summary>The key holds nothing (any more): nobody else can be served from it.</summary>
        KeyEmpty,
    }

    /// <summary>Serves one client from a ready key.</summary>
    private Serve TryServe(Client client, int dbIndex, byte[] key)
    {
        var db = new Database(_keyspace, dbIndex);
        var entry = db.LookupWrite(key);
        if (!entry.Exists)
            return Serve.KeyEmpty;
        var state = client.BlockedOn!;
        var output = client.Output;
        var propagation = _propagation;
        bool propagate = !_role.IsReplica;
        if (state.WantsSortedSet)
        {
            if (entry.Kind != ValueKind.SortedSet)
                return Serve.OtherType;
            bool max = state.Kind == BlockKind.ZPopMax;
            long popped = SortedSetCommands.PopForBlocked(_notifier, db, key, entry.As<SortedSetObject>(), max, state.Count, state.Multi, output);
            if (propagate)
            {
                var p = propagation.Add(dbIndex, state.Multi ? 3 : 2, replacesRequest: false);
                p.WriteBulk(max ? "ZPOPMAX"u8 : "ZPOPMIN"u8);
                p.WriteBulk(key);
                if (state.Multi)
                    p.WriteBulk(popped);
            }
            return Finish(client, propagate);
        }
        if (entry.Kind != ValueKind.List)
            return Serve.OtherType;
        var list = entry.As<ListObject>();
        if (state.Multi)
        {
            bool left = state.Kind == BlockKind.PopLeft;
            long popped = ListCommands.PopRange(_notifier, db, key, list, left, state.Count, output);
            if (propagate)
            {
                var p = propagation.Add(dbIndex, 3, replacesRequest: false);
                p.WriteBulk(left ? "LPOP"u8 : "RPOP"u8);
                p.WriteBulk(key);
                p.WriteBulk(popped);
            }
            return Finish(client, propagate);
        }
        if (state.Kind != BlockKind.Move)
        {
            bool left = state.Kind == BlockKind.PopLeft;
            output.WriteArrayHeader(2);
            output.WriteBulk(key);
            output.WriteBulk(left ? list.PopLeftSpan() : list.PopRightSpan());
            if (propagate)
            {
                var p = propagation.Add(dbIndex, 2, replacesRequest: false);
                p.WriteBulk(left ? "LPOP"u8 : "RPOP"u8);
                p.WriteBulk(key);
            }
            CollectionHelpers.AfterRemoval(_notifier, db, key, list, 1, KeyspaceEventClass.List, ListCommands.PopEvent(left));
        }
        else
        {
            var destination = state.Destination!;
            var target = db.LookupWrite(destination);
            if (target.IsNot(ValueKind.List))
            {
                // The element stays; the client learns why it could not be served.
                output.WriteError(ErrorReplies.WrongType);
                Unblock(client, resume: true);
                return Serve.Served;
            }
            ListCommands.MoveElement(_notifier, db, list, key, target.Exists ? target.As<ListObject>() : null, destination, state.FromLeft, state.ToLeft, output);
            if (propagate)
            {
                if (state.IsLMove)
                {
                    var p = propagation.Add(dbIndex, 5, replacesRequest: false);
                    p.WriteBulk("LMOVE"u8);
                    p.WriteBulk(key);
                    p.WriteBulk(destination);
                    p.WriteBulk(state.FromLeft ? "LEFT"u8 : "RIGHT"u8);
                    p.WriteBulk(state.ToLeft ? "LEFT"u8 : "RIGHT"u8);
                }
                else
                {
                    var p = propagation.Add(dbIndex, 3, replacesRequest: false);
                    p.WriteBulk("RPOPLPUSH"u8);
                    p.WriteBulk(key);
                    p.WriteBulk(destination);
                }
            }
        }
        return Finish(client, propagate);
    }

    /// <summary>Sends the serving's propagation and ends the client's wait.</summary>
    private Serve Finish(Client client, bool propagate)
    {
        if (propagate)
            _propagation.FlushTo(_effects, wrap: true);
        else
            _propagation.Clear();
        Unblock(client, resume: true);
        return Serve.Served;
    }

    /// <summary>Ends the waits whose timeout passed (a cron job): they get a nil multi-bulk.</summary>
    public void ExpireTimeouts()
    {
        if (_blocked.Count == 0)
            return;
        long now = Environment.TickCount64;
        List<Client>? expired = null;
        foreach (var client in _blocked)
        {
            long deadline = client.BlockedOn!.DeadlineTicks;
            if (deadline != 0 && deadline <= now)
                (expired ??= new()).Add(client);
        }
        if (expired is null)
            return;
        foreach (var client in expired)
        {
            client.Output.WriteNullArray();
            // redis-server 7.0.15 counts a blocked call in LATENCY HISTOGRAM only when it is served.
            client.BlockedOn!.PendingLatency = null;
            Unblock(client, resume: true);
        }
    }

    private sealed class ReadyKeyComparer : IEqualityComparer<(int Db, byte[] Key)>
    {
        public static readonly ReadyKeyComparer Instance = new();

        public bool Equals((int Db, byte[] Key) x, (int Db, byte[] Key) y) => x.Db == y.Db && x.Key.AsSpan().SequenceEqual(y.Key);

        public int GetHashCode((int Db, byte[] Key) obj) => HashCode.Combine(obj.Db, ByteArrayComparer.Instance.GetHashCode(obj.Key));
    }
}
