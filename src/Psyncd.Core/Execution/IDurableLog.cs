namespace Psyncd.Execution;

/// <summary>
/// The log that replies wait for (<c>appendonly yes</c>): stream bytes the loop produced must be written to it (and synced,
/// with <c>appendfsync always</c>) before any output leaves the server, as redis-server writes its AOF buffer in
/// beforeSleep before it sends replies. Declared here so that the loop never names Persistence; implemented by
/// <c>AppendOnlyFile</c>.
/// </summary>
public interface IDurableLog
{
    /// <summary>True while bytes produced by the loop wait for their write: every client's output is held meanwhile.</summary>
    bool HasUncommitted { get; }

    /// <summary>Writes what waits in one write (and one sync with <c>appendfsync always</c>); inside the loop.</summary>
    void Commit();
}
