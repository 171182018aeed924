namespace Psyncd.Storage;

/// <summary>Estimates for INFO keyspace.</summary>
public sealed unsafe partial class Keyspace
{
    private const int TtlSampleSize = 20;

    /// <summary>
    /// The average time to live, in milliseconds, of keys with one in database <paramref name="db"/>,
    /// estimated from a random sample as Redis estimates it (0 when none has a time to live).
    /// </summary>
    public long AverageTtl(int db)
    {
        var index = _expiries[db];
        if (index.Count == 0)
            return 0;
        long sum = 0;
        int counted = 0;
        int sample = Math.Min(TtlSampleSize, index.Count);
        for (int i = 0; i < sample; i++)
        {
            var key = index.Sample(_random);
            if (!TryReadRecord(db, key, out var record))
                continue;
            long ttl = ValueLayout.ExpireAt(record.Value) - NowMs;
            if (ttl > 0)
            {
                sum += ttl;
                counted++;
            }
        }
        return counted == 0 ? 0 : sum / counted;
    }
}
