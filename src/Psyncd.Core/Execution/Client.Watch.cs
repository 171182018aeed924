using Psyncd.Server;

namespace Psyncd.Execution;

public sealed partial class Client
{
    /// <summary>Keys this client WATCHes (Redis's watched_keys); null when none.</summary>
    internal List<WatchedKey>? WatchedKeys { get; set; }
}
