using Psyncd.Server;

namespace Psyncd.Execution;

public sealed partial class Client
{
    /// <summary>What the client waits for while blocked (BLPOP, BRPOP, BRPOPLPUSH, BLMOVE); null otherwise.</summary>
    public BlockedState? BlockedOn { get; internal set; }
}
