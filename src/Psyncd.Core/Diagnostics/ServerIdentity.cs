using Psyncd.Text;

namespace Psyncd.Diagnostics;

/// <summary>Who this server is, as INFO server, the log's banner and the RDB header say it.</summary>
public sealed class ServerIdentity
{
    /// <summary>The version psyncd reports as <c>redis_version</c>: the Redis it behaves like.</summary>
    public const string RedisVersion = "2.8.24";

    /// <summary>psyncd's own version.</summary>
    public const string Version = "0.1.0";

    /// <summary>40 hex characters, new at every start (INFO's run_id).</summary>
    public string RunId { get; } = OsRandom.Hex(20);

    /// <summary>When the server started (Environment.TickCount64).</summary>
    public long StartedAtMs { get; } = Environment.TickCount64;

    /// <summary>The TCP port actually listened on (differs from the option when it was 0); set by the listener.</summary>
    public int BoundPort { get; set; }
}
