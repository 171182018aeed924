using System.Diagnostics;
using FASTER.core;

namespace Psyncd.Storage;

/// <summary>Reclaiming the log's garbage: superseded record versions and deleted keys.</summary>
/// <remarks>
/// FASTER's log only grows: a value that does not fit in its record, a deleted key, or any write during a
/// snapshot leaves an old record behind. Compaction copies the live records of the oldest part of the log
/// to its tail and then drops that part (FASTER's lookup compaction), freeing its pages. The cron compacts
/// a little at a time once garbage makes up most of the log; a write short of room compacts at once
/// (<see cref="PrepareForWrite"/>). Never while a snapshot runs: it needs the records where they are.
/// </remarks>
public sealed unsafe partial class Keyspace
{
    /// <summary>Bytes of log that are not live records (approximate).</summary>
    public long GarbageBytes => Math.Max(0, LogBytes - _liveBytes);

    /// <summary>Compactions done since start.</summary>
    public long Compactions { get; private set; }

    /// <summary>
    /// One step of background compaction: when garbage is more than half of a log of at least
    /// <paramref name="minimumLogBytes"/>, compacts up to <paramref name="maxBytes"/> of its oldest part.
    /// Returns true when something was compacted.
    /// </summary>
    public bool CompactStep(long maxBytes, long minimumLogBytes)
    {
        if (IsSnapshotRunning || LogBytes < minimumLogBytes || GarbageBytes * 2 < LogBytes)
            return false;
        CompactOldest(maxBytes);
        return true;
    }

    /// <summary>Compacts until <paramref name="needed"/> bytes fit, or until compaction stops paying off.</summary>
    private void CompactForRoom(long needed)
    {
        for (int i = 0; i < 1024 && LogBytes + needed > _usableLogBytes && GarbageBytes > needed / 2; i++)
        {
            long before = LogBytes;
            CompactOldest(Math.Max(needed, 4 * _settings.PageBytes));
            if (LogBytes >= before)
                break;
        }
    }

    private void CompactOldest(long maxBytes)
    {
        long begin = _store.Log.BeginAddress;
        // Whole pages only, and never the page being filled.
        long tailPage = _store.Log.TailAddress / _settings.PageBytes * _settings.PageBytes;
        long until = Math.Min(begin + maxBytes, tailPage);
        until = until / _settings.PageBytes * _settings.PageBytes;
        if (until <= begin)
            return;
        Debug.Assert(_snapshot is null);
        OutsideEpoch(() =>
        {
            _store.Log.ShiftReadOnlyAddress(until, wait: true);
            _session.Compact(until, CompactionType.Lookup);
        });
        Compactions++;
    }
}
