namespace Psyncd.Server;

/// <summary>Transactions' WATCH bookkeeping and pub/sub, created on first use (most servers never need them).</summary>
public sealed partial class PsyncdServer
{
    private PubSubRegistry? _pubSub;



    /// <summary>Channels, patterns and their subscribers; registers its hooks when first used.</summary>
    public PubSubRegistry PubSub => _pubSub ??= new PubSubRegistry(this);

    /// <summary>The registry if anyone ever subscribed, else null (PUBLISH to nobody needs nothing).</summary>
    internal PubSubRegistry? PubSubIfCreated => _pubSub;
}
