namespace Psyncd.Execution;

/// <summary>A subsystem that keeps state about keys (WATCH, blocked clients) and hears of every change.</summary>
public interface IKeyspaceListener
{
    /// <summary>A key was modified, created, deleted or expired (inside the loop).</summary>
    void KeyModified(int db, ReadOnlySpan<byte> key);

    /// <summary>Database <paramref name="db"/> was emptied (FLUSHDB, FLUSHALL: once per database).</summary>
    void DatabaseFlushed(int db);
}
