namespace Psyncd.Execution;

public sealed partial class Client
{
    /// <summary>Channels this client is subscribed to; null when none.</summary>
    internal HashSet<byte[]>? SubscribedChannels { get; set; }

    /// <summary>Patterns this client is subscribed to, in subscription order; null when none.</summary>
    internal List<byte[]>? SubscribedPatterns { get; set; }
}
