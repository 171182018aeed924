namespace Psyncd.Execution;

/// <summary>State of the dataset that decides which commands run: set by persistence and replication, read by the dispatcher.</summary>
public sealed class DatasetState
{
    /// <summary>True while an RDB is loading (commands without the loading flag get -LOADING).</summary>
    public bool Loading { get; set; }

    /// <summary>True when the last background save failed (MISCONF, with stop-writes-on-bgsave-error).</summary>
    public bool LastBgsaveFailed { get; set; }
}
