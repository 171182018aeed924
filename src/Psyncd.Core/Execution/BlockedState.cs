namespace Psyncd.Execution;

/// <summary>What a blocked client waits to do.</summary>
public enum BlockKind
{
    /// <summary>BLPOP: pop the head of the first key to hold elements.</summary>
    PopLeft,

    /// <summary>BRPOP: pop the tail.</summary>
    PopRight,

    /// <summary>BRPOPLPUSH / BLMOVE: move an element to <see cref="BlockedState.Destination"/>.</summary>
    Move,

    /// <summary>BZPOPMIN / BZMPOP MIN: pop the lowest scores of the first key to hold a sorted set.</summary>
    ZPopMin,

    /// <summary>BZPOPMAX / BZMPOP MAX: pop the highest scores.</summary>
    ZPopMax,
}

/// <summary>A blocked client's request: its database, the keys it waits on, and what to do when one fills.</summary>
public sealed class BlockedState
{
    public BlockedState(int db, byte[][] keys, BlockKind kind, long timeoutMs)
    {
        Db = db;
        Keys = keys;
        Kind = kind;
        DeadlineTicks = timeoutMs == 0 ? 0 : Environment.TickCount64 + timeoutMs;
    }

    public int Db { get; }

    /// <summary>The keys waited on, without duplicates, in the order given.</summary>
    public byte[][] Keys { get; }

    public BlockKind Kind { get; }

    /// <summary>When the wait ends (Environment.TickCount64), or 0 for never.</summary>
    public long DeadlineTicks { get; }

    public byte[]? Destination { get; init; }

    public bool FromLeft { get; init; }

    public bool ToLeft { get; init; }

    /// <summary>
    /// True for BLMPOP and BZMPOP: up to <see cref="Count"/> elements, replied as [key, [elements]] and
    /// propagated with the number popped; false for BLPOP, BRPOP, BZPOPMIN, BZPOPMAX (one element, flat reply).
    /// </summary>
    public bool Multi { get; init; }

    /// <summary>
    /// The command that blocked and the microseconds its first call took, when latency-tracking is on: Redis
    /// records a blocked command's latency when it is served, not when it blocks (nor when its wait times out).
    /// </summary>
    public (CommandDescriptor Command, long Microseconds)? PendingLatency { get; set; }

    /// <summary>Elements a <see cref="Multi"/> pop takes at most.</summary>
    public long Count { get; init; } = 1;

    /// <summary>True when the client waits for sorted sets rather than lists.</summary>
    public bool WantsSortedSet => Kind is BlockKind.ZPopMin or BlockKind.ZPopMax;

    /// <summary>True for BLMOVE (propagated as LMOVE), false for BRPOPLPUSH (as RPOPLPUSH).</summary>
    public bool IsLMove { get; init; }
}
