using System.Diagnostics;

namespace Psyncd.Storage;

/// <summary>The active expire cycle: deleting keys whose time to live passed even if nobody reads them.</summary>
/// <remarks>
/// Mirrors Redis's activeExpireCycle: for each database in turn, sample up to 20 keys that have a time to
/// live and delete the expired ones; sample the same database again while more than a quarter of the
/// sample had expired; stop when the time budget is spent. Lazy expiry (on lookup) covers the rest.
/// Only a master deletes keys this way; a replica waits for its master's DELs.
/// </remarks>
public sealed unsafe partial class Keyspace
{
    private const int ExpireSampleSize = 20;
    private int _nextExpireDb;

    /// <summary>False after DEBUG SET-ACTIVE-EXPIRE 0: expired keys go only when looked up (tests of lazy expiry).</summary>
    public bool ActiveExpireEnabled { get; set; } = true;

    /// <summary>Runs one active expire cycle of at most <paramref name="budget"/>; returns the keys deleted.</summary>
    public long ActiveExpireCycle(TimeSpan budget)
    {
        if (ExpiryMode != ExpiryMode.Delete || !ActiveExpireEnabled)
            return 0;
        long deadline = Stopwatch.GetTimestamp() + (long)(budget.TotalSeconds * Stopwatch.Frequency);
        long deleted = 0;
        for (int n = 0; n < _databases; n++)
        {
            int db = _nextExpireDb;
            _nextExpireDb = (_nextExpireDb + 1) % _databases;
            var index = _expiries[db];
            while (index.Count > 0)
            {
                int sample = Math.Min(ExpireSampleSize, index.Count);
                int expired = 0;
                for (int i = 0; i < sample && index.Count > 0; i++)
                {
                    var key = index.Sample(_random);
                    if (!TryReadRecord(db, key, out var record))
                    {
                        // Cannot happen while the index is kept in step with the records; heal it anyway.
                        index.Remove(key);
                        continue;
                    }
                    if (NowMs > ValueLayout.ExpireAt(record.Value))
                    {
                        DeleteExisting(db, key, record);
                        ExpiredKeys++;
                        expired++;
                        Observer?.KeyExpired(db, key);
                    }
                }
                deleted += expired;
                if (expired <= sample / 4 || Stopwatch.GetTimestamp() > deadline)
                    break;
            }
            if (Stopwatch.GetTimestamp() > deadline)
                break;
        }
        return deleted;
    }
}
