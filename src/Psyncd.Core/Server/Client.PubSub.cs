namespace Psyncd.Server;

public sealed partial class Client
{
    /// <summary>Channels this client is subscribed to; null when none.</summary>
    internal HashSet<byte[]>? SubscribedChannels { get; set; }

    /// <summary>Patterns this client is subscribed to, in subscription order; null when none.</summary>
    internal List<byte[]>? SubscribedPatterns { get; set; }

    /// <summary>
    /// When the output first went over the pubsub soft limit (seconds, Environment.TickCount64 / 1000);
    /// 0 while under it.
    /// </summary>
    internal long PubSubSoftLimitSince { get; set; }
}
