namespace Psyncd.Server;

/// <summary>
/// Persistence state that INFO persistence, LASTSAVE and SHUTDOWN read. The RDB subsystem drives these
/// properties; nothing here saves by itself.
/// </summary>
public sealed partial class PsyncdServer
{
    /// <summary><c>Keyspace.Dirty</c> when the last successful save started (rdb_changes_since_last_save is the difference).</summary>
    public long DirtyAtLastSave { get; set; }

    /// <summary>Unix time (seconds) of the last successful save, or of the start when none yet (LASTSAVE, rdb_last_save_time).</summary>
    public long LastSaveTime { get; set; } = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

    /// <summary>True while a background save runs (rdb_bgsave_in_progress).</summary>
    public bool BgsaveInProgress { get; set; }

    /// <summary>True unless the last background save failed (rdb_last_bgsave_status); the same state as <see cref="LastBgsaveFailed"/>.</summary>
    public bool LastBgsaveStatusOk
    {
        get => !LastBgsaveFailed;
        set => LastBgsaveFailed = !value;
    }

    /// <summary>Unix time (seconds) the running background save started, or -1 (rdb_current_bgsave_time_sec).</summary>
    public long BgsaveStartedAt { get; set; } = -1;

    /// <summary>Seconds the last background save took, or -1 (rdb_last_bgsave_time_sec).</summary>
    public long LastBgsaveDurationSeconds { get; set; } = -1;

    /// <summary>Microseconds the last snapshot took to start (latest_fork_usec; psyncd does not fork).</summary>
    public long LatestForkMicroseconds { get; set; }

    /// <summary>
    /// Set by the RDB subsystem: saves the dataset synchronously for SHUTDOWN; returns false when the save
    /// failed (SHUTDOWN then refuses to exit). Null when persistence is not available.
    /// </summary>
    public Func<bool>? SaveOnShutdown { get; set; }
}
