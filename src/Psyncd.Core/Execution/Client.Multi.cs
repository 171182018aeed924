
namespace Psyncd.Execution;

/// <summary>A command queued inside MULTI, with its arguments copied.</summary>
public sealed record QueuedCommand(CommandDescriptor Command, byte[][] Args);

public sealed partial class Client
{
    /// <summary>Commands queued since MULTI; null outside a transaction.</summary>
    public List<QueuedCommand>? MultiQueue { get; set; }

    /// <summary>Channels plus patterns this client is subscribed to; non-zero means subscribed mode.</summary>
    public int SubscriptionCount { get; set; }

    /// <summary>Per-client command context (reused for every command).</summary>
    internal CommandContext? Context { get; set; }
}
