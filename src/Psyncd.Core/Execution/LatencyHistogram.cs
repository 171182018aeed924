using Psyncd.Protocol;

namespace Psyncd.Execution;

/// <summary>
/// One command's latency distribution for LATENCY HISTOGRAM, reported as redis-server 7.0 reports its HDR
/// histogram (1 ns to 1 s, 2 significant digits) walked in powers of two from 1024 ns: at each step, the calls
/// that took at most the step's bucket's highest value, keyed by that value in microseconds. Only those counts
/// are ever reported, so they are all that is kept: durations are whole microseconds, recorded as nanoseconds.
/// </summary>
/// <remarks>
/// The bucket holding 1024·2^k ns is 8·2^k ns wide at that precision, so step k counts durations up to
/// 1032·2^k − 1 ns and is reported as (1032·2^k − 1) / 1000 µs: 1, 2, 4, 8, 16, 33, 66, 132 ... The last step
/// ends at the histogram's top (2^30 − 1 ns): slower calls are clamped to 1 s, as Redis clamps them.
/// </remarks>
public sealed class LatencyHistogram
{
    private const int Steps = 21;

    /// <summary>Calls whose duration first fits at each step.</summary>
    private readonly long[] _counts = new long[Steps];

    /// <summary>Calls recorded (LATENCY HISTOGRAM's "calls").</summary>
    public long Total { get; private set; }

    /// <summary>The highest nanoseconds step <paramref name="k"/> counts.</summary>
    private static long StepTop(int k) => k == Steps - 1 ? (1L << 30) - 1 : (1032L << k) - 1;

    public void Record(long microseconds)
    {
        long ns = Math.Clamp(microseconds * 1000, 1, 1_000_000_000);
        int k = 0;
        while (k < Steps - 1 && ns > StepTop(k))
            k++;
        _counts[k]++;
        Total++;
    }

    /// <summary>Writes <c>{calls, histogram_usec: {µs: cumulative calls, ...}}</c> with the steps where the count grows.</summary>
    public void Write(ReplyWriter reply)
    {
        reply.WriteMapHeader(2);
        reply.WriteBulk("calls"u8);
        reply.WriteInteger(Total);
        reply.WriteBulk("histogram_usec"u8);
        int steps = 0;
        foreach (long count in _counts)
            steps += count > 0 ? 1 : 0;
        reply.WriteMapHeader(steps);
        long cumulative = 0;
        for (int k = 0; k < Steps; k++)
        {
            if (_counts[k] == 0)
                continue;
            cumulative += _counts[k];
            reply.WriteInteger(StepTop(k) / 1000);
            reply.WriteInteger(cumulative);
        }
    }
}
