namespace Psyncd.Execution;

/// <summary>What CLIENT LIST shows beyond the basics.</summary>
public sealed partial class Client
{
    /// <summary>The socket's file descriptor (CLIENT LIST's <c>fd=</c>); -1 when there is none (the master link, fake clients).</summary>
    public long Fd { get; set; } = -1;

    /// <summary>Of <see cref="SubscriptionCount"/>, how many are patterns (CLIENT LIST's <c>psub=</c>; kept by pub/sub).</summary>
    public int PatternSubscriptionCount { get; set; }
}
