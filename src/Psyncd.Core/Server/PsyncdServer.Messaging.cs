namespace Psyncd.Server;

/// <summary>Transactions' WATCH bookkeeping and pub/sub, created on first use (most servers never need them).</summary>
public sealed partial class PsyncdServer
{
    private WatchRegistry? _watches;
    private PubSubRegistry? _pubSub;

    /// <summary>WATCHed keys; registers its keyspace and client hooks when first used.</summary>
    public WatchRegistry Watches => _watches ??= new WatchRegistry(this);

    /// <summary>True when some client WATCHes or once did (cheap check that avoids creating the registry).</summary>
    public bool HasWatches => _watches is not null && _watches.Count > 0;

    /// <summary>Channels, patterns and their subscribers; registers its hooks when first used.</summary>
    public PubSubRegistry PubSub => _pubSub ??= new PubSubRegistry(this);

    /// <summary>The registry if anyone ever subscribed, else null (PUBLISH to nobody needs nothing).</summary>
    internal PubSubRegistry? PubSubIfCreated => _pubSub;
}
