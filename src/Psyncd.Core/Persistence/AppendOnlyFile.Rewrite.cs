namespace Psyncd.Persistence;

/// <summary>Rewriting the log: a new base from a snapshot, older incremental files kept as history.</summary>
public sealed partial class AppendOnlyFile
{
    /// <summary>True while a rewrite writes a new base (INFO's aof_rewrite_in_progress).</summary>
    public bool RewriteInProgress => false;

    /// <summary>True when a rewrite waits for a running snapshot to end (INFO's aof_rewrite_scheduled).</summary>
    public bool RewriteScheduled { get; private set; }

    public long LastRewriteDurationSec { get; private set; } = -1;

    public long CurrentRewriteDurationSec => -1;

    public bool LastRewriteOk { get; private set; } = true;

    public long Rewrites { get; private set; }

    public long RewriteFailuresInARow { get; private set; }

    /// <summary>Stops a running rewrite (its temp file is removed; the log goes on as it was).</summary>
    public void CancelRewrite()
    {
    }
}
