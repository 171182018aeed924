using System.Net;
using Psyncd.Config;
using Psyncd.Protocol;

namespace Psyncd.Execution;

/// <summary>Per-connection flags; the letters are CLIENT LIST's.</summary>
[Flags]
public enum ClientFlags
{
    None = 0,

    /// <summary>S: the connection is a replica of this server.</summary>
    Replica = 1 << 0,

    /// <summary>M: the connection is this server's link to its master.</summary>
    Master = 1 << 1,

    /// <summary>O: in MONITOR mode.</summary>
    Monitor = 1 << 2,

    /// <summary>x: inside MULTI.</summary>
    Multi = 1 << 3,

    /// <summary>b: blocked (BLPOP, WAIT...).</summary>
    Blocked = 1 << 4,

    /// <summary>d: a WATCHed key was touched; EXEC will fail.</summary>
    DirtyCas = 1 << 5,

    /// <summary>A command failed to queue inside MULTI; EXEC will answer EXECABORT.</summary>
    DirtyExec = 1 << 6,

    /// <summary>c: close once the pending replies are written (QUIT, protocol errors).</summary>
    CloseAfterReply = 1 << 7,

    /// <summary>A: close as soon as possible, without writing more (CLIENT KILL, output limits).</summary>
    CloseAsap = 1 << 8,

    /// <summary>The replica spoke SYNC, not PSYNC: no ACKs expected (Redis's CLIENT_PRE_PSYNC).</summary>
    PrePsync = 1 << 9,

    /// <summary>u: just unblocked; its pending input must be processed again.</summary>
    Unblocked = 1 << 10,

    /// <summary>The scripts' client: the commands redis.call runs (Redis's CLIENT_SCRIPT).</summary>
    Script = 1 << 11,
}

/// <summary>
/// What the server knows of one connection (Redis's <c>client</c>): identity, selected database,
/// authentication, flags, and its output. Per-feature state (transactions, pub/sub, blocking,
/// replication) is grouped below, one banner per feature.
/// Touched only inside the command loop.
/// </summary>
public sealed class Client
{
    private static long s_nextId;

    public Client(ClientOutput output, EndPoint? remote, EndPoint? local, string? unixSocketPath = null)
    {
        Id = Interlocked.Increment(ref s_nextId);
        Output = output;
        output.Owner = this;
        Remote = remote;
        Address = remote switch
        {
            IPEndPoint ip => FormatAddress(ip),
            _ when unixSocketPath is not null => unixSocketPath + ":0",
            _ => "?:0",
        };
        LocalAddress = local switch
        {
            IPEndPoint ip => FormatAddress(ip),
            _ when unixSocketPath is not null => unixSocketPath + ":0",
            _ => "?:0",
        };
        IsUnixSocket = unixSocketPath is not null;
        IsLocal = IsUnixSocket || (remote is IPEndPoint peer && IsLoopbackAddress(peer.Address));
        CreatedAtMs = Environment.TickCount64;
        LastInteractionMs = CreatedAtMs;
    }

    /// <summary>Unique, increasing id (CLIENT LIST's <c>id=</c>).</summary>
    public long Id { get; }

    /// <summary>CLIENT SETNAME's name, or null.</summary>
    public string? Name { get; set; }

    public EndPoint? Remote { get; }

    /// <summary><c>ip:port</c> of the peer, as CLIENT LIST and CLIENT KILL write it.</summary>
    public string Address { get; }

    /// <summary><c>ip:port</c> of our side.</summary>
    public string LocalAddress { get; }

    public bool IsUnixSocket { get; }

    /// <summary>
    /// True for a Unix socket or a TCP peer at 127.0.0.1 or ::1 exactly: what Redis calls a local client
    /// (protected mode, <c>enable-debug-command local</c>). Other 127.x.y.z addresses are not local for Redis.
    /// </summary>
    public bool IsLocal { get; }

    /// <summary>When the connection was accepted (Environment.TickCount64).</summary>
    public long CreatedAtMs { get; }

    /// <summary>Last time a command arrived (Environment.TickCount64), for <c>timeout</c> and CLIENT LIST's idle.</summary>
    public long LastInteractionMs { get; set; }

    /// <summary>The selected database.</summary>
    public int Db { get; set; }

    /// <summary>True once AUTH succeeded, or when no password is required.</summary>
    public bool Authenticated { get; set; }

    public ClientFlags Flags { get; set; }

    public bool Has(ClientFlags flag) => (Flags & flag) != 0;

    /// <summary>Name of the last command executed, lower case (CLIENT LIST's <c>cmd=</c>).</summary>
    public string LastCommand { get; set; } = "NULL";

    /// <summary>Where replies go.</summary>
    public ClientOutput Output { get; }

    /// <summary>When the output first went over its class's soft limit (Environment.TickCount64); 0 while under it.</summary>
    internal long OutputSoftLimitSinceMs { get; set; }

    /// <summary>This connection's request parser.</summary>
    public RequestParser Parser { get; } = new();

    /// <summary>Set while the client waits in the loop's flush list.</summary>
    internal bool FlushScheduled { get; set; }

    /// <summary>Bytes received and not yet processed (CLIENT LIST's <c>qbuf=</c>).</summary>
    public long QueryBufferBytes { get; set; }

    /// <summary>The transport connection, when there is one (to close it from CLIENT KILL and the like).</summary>
    public IClientConnection? Connection { get; set; }

    /// <summary>True when the connection is going away: no more commands run for it.</summary>
    public bool IsClosing => (Flags & (ClientFlags.CloseAsap | ClientFlags.CloseAfterReply)) != 0;

    /// <summary>Closes the connection as soon as possible, dropping pending output (CLIENT KILL, output limits).</summary>
    public void CloseAsap()
    {
        Flags |= ClientFlags.CloseAsap;
        Output.Discard();
        Connection?.Close();
    }

    /// <summary>True when a feature protected by <paramref name="access"/> (enable-debug-command...) is open to this client.</summary>
    public bool MayUse(ProtectedAccess access)
        => access == ProtectedAccess.Yes || (access == ProtectedAccess.Local && IsLocal);

    /// <summary>
    /// Sets CLIENT SETNAME's (or HELLO SETNAME's) name: printable ASCII without spaces; empty clears it. False,
    /// and the name unchanged, when a byte is not allowed.
    /// </summary>
    public bool TrySetName(ReadOnlySpan<byte> name)
    {
        foreach (byte b in name)
        {
            if (b < '!' || b > '~')
                return false;
        }
        Name = name.Length == 0 ? null : System.Text.Encoding.ASCII.GetString(name);
        return true;
    }

    /// <summary>The protocol the connection speaks: 2, or 3 after HELLO 3 (CLIENT LIST's <c>resp=</c>).</summary>
    public int Protocol => Output.Resp3 ? 3 : 2;

    /// <summary>A one-line description for log messages.</summary>
    public string Describe() => "id=" + Id + " addr=" + Address + " name=" + (Name ?? "") + " cmd=" + LastCommand;

    // ------------------------------------------------------------------
    // Admin
    // ------------------------------------------------------------------

    /// <summary>The socket's file descriptor (CLIENT LIST's <c>fd=</c>); -1 when there is none (the master link, fake clients).</summary>
    public long Fd { get; set; } = -1;

    /// <summary>Of <see cref="SubscriptionCount"/>, how many are patterns (CLIENT LIST's <c>psub=</c>; kept by pub/sub).</summary>
    public int PatternSubscriptionCount { get; set; }

    // ------------------------------------------------------------------
    // Multi
    // ------------------------------------------------------------------

    /// <summary>Commands queued since MULTI; null outside a transaction.</summary>
    public List<QueuedCommand>? MultiQueue { get; set; }

    /// <summary>Channels plus patterns this client is subscribed to; non-zero means subscribed mode.</summary>
    public int SubscriptionCount { get; set; }

    /// <summary>Per-client command context (reused for every command).</summary>
    internal CommandContext? Context { get; set; }

    // ------------------------------------------------------------------
    // PubSub
    // ------------------------------------------------------------------

    /// <summary>Channels this client is subscribed to; null when none.</summary>
    internal HashSet<byte[]>? SubscribedChannels { get; set; }

    /// <summary>Patterns this client is subscribed to, in subscription order; null when none.</summary>
    internal List<byte[]>? SubscribedPatterns { get; set; }

    // ------------------------------------------------------------------
    // Watch
    // ------------------------------------------------------------------

    /// <summary>Keys this client WATCHes (Redis's watched_keys); null when none.</summary>
    internal List<WatchedKey>? WatchedKeys { get; set; }

    // ------------------------------------------------------------------
    // Blocking
    // ------------------------------------------------------------------

    /// <summary>What the client waits for while blocked (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE); null otherwise.</summary>
    public BlockedState? BlockedOn { get; internal set; }

    // ------------------------------------------------------------------
    // Replication
    // ------------------------------------------------------------------

    /// <summary>The stream's offset after this client's last command (Redis's woff), for WAIT.</summary>
    public long ReplicationOffset { get; set; }

    /// <summary>
    /// On the master's link (a replica's master client): the longest time, in Stopwatch ticks, that bytes read
    /// from the master waited before they were applied, since the replica's cron last took it (master_lag_ms).
    /// </summary>
    public long MaxApplyDelayTicks { get; set; }

    private static bool IsLoopbackAddress(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
            address = address.MapToIPv4();
        return address.Equals(IPAddress.Loopback) || address.Equals(IPAddress.IPv6Loopback);
    }

    private static string FormatAddress(IPEndPoint ip)
    {
        var address = ip.Address.IsIPv4MappedToIPv6 ? ip.Address.MapToIPv4() : ip.Address;
        return address.ToString() + ":" + ip.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

/// <summary>The transport side of a client, as the loop sees it.</summary>
public interface IClientConnection
{
    /// <summary>Ends the connection; its receive loop notices and cleans up.</summary>
    void Close();

    /// <summary>Asks the receive loop to process its buffered input again (after a client is unblocked).</summary>
    void Resume();
}

/// <summary>A command queued inside MULTI, with its arguments copied.</summary>
public sealed record QueuedCommand(CommandDescriptor Command, byte[][] Args)
{
    /// <summary>The arguments as a request's <see cref="CommandArgs"/>, over one new buffer.</summary>
    public CommandArgs ToArgs()
    {
        var slices = new ArgSlice[Args.Length];
        int total = 0;
        foreach (var arg in Args)
            total += arg.Length;
        var buffer = new byte[total];
        int offset = 0;
        for (int i = 0; i < Args.Length; i++)
        {
            Args[i].CopyTo(buffer, offset);
            slices[i] = new ArgSlice(offset, Args[i].Length);
            offset += Args[i].Length;
        }
        return new CommandArgs(buffer, slices);
    }
}
