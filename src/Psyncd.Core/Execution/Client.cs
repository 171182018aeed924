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
}

/// <summary>
/// What the server knows of one connection (Redis's <c>client</c>): identity, selected database,
/// authentication, flags, and its output. Subsystems keep their per-client state in partial files of
/// this class (transactions, pub/sub, blocking, replication).
/// Touched only inside the command loop.
/// </summary>
public sealed partial class Client
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

    /// <summary>A one-line description for log messages.</summary>
    public string Describe() => "id=" + Id + " addr=" + Address + " name=" + (Name ?? "") + " cmd=" + LastCommand;

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
