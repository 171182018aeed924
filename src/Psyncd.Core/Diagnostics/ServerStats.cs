namespace Psyncd.Diagnostics;

/// <summary>Counters shown by INFO stats; reset by CONFIG RESETSTAT. Touched inside the loop only.</summary>
public sealed class ServerStats
{
    public long TotalConnectionsReceived { get; set; }

    public long TotalCommandsProcessed { get; set; }

    public long RejectedConnections { get; set; }

    public long TotalNetInputBytes { get; set; }

    public long TotalNetOutputBytes { get; set; }

    public long SyncFull { get; set; }

    public long SyncPartialOk { get; set; }

    public long SyncPartialErr { get; set; }

    public long EvictedKeys { get; set; }

    /// <summary>
    /// Polls of the event loop before it sleeps (psyncd's own, Network/EventLoop), and those that found events. Written by
    /// the event loop's thread between passes, outside the loop: a reader sees a recent count.
    /// </summary>
    public long EventLoopPolls { get; set; }

    public long EventLoopPollHits { get; set; }

    // Instantaneous ops/sec: the cron samples the command count and keeps a short ring of rates.
    private readonly double[] _opsSamples = new double[16];
    private int _opsSampleIndex;
    private long _lastSampleCommands;
    private long _lastSampleTicks = Environment.TickCount64;

    public double InstantaneousOpsPerSec
    {
        get
        {
            double sum = 0;
            foreach (var s in _opsSamples)
                sum += s;
            return sum / _opsSamples.Length;
        }
    }

    /// <summary>Called by the cron about every 100 ms.</summary>
    public void Sample()
    {
        long now = Environment.TickCount64;
        long elapsed = now - _lastSampleTicks;
        if (elapsed < 100)
            return;
        _opsSamples[_opsSampleIndex] = (TotalCommandsProcessed - _lastSampleCommands) * 1000.0 / elapsed;
        _opsSampleIndex = (_opsSampleIndex + 1) % _opsSamples.Length;
        _lastSampleCommands = TotalCommandsProcessed;
        _lastSampleTicks = now;
    }

    public void Reset()
    {
        TotalConnectionsReceived = 0;
        TotalCommandsProcessed = 0;
        RejectedConnections = 0;
        TotalNetInputBytes = 0;
        TotalNetOutputBytes = 0;
        SyncFull = 0;
        SyncPartialOk = 0;
        SyncPartialErr = 0;
        EvictedKeys = 0;
        EventLoopPolls = 0;
        EventLoopPollHits = 0;
        Array.Clear(_opsSamples);
        _lastSampleCommands = 0;
    }
}
