using Psyncd.Config;

namespace Psyncd.Diagnostics;

/// <summary>
/// The latency monitor (LATENCY LATEST/HISTORY/RESET/GRAPH/DOCTOR): for each named event ("command",
/// "fast-command", "expire-cycle"...), the samples that reached <c>latency-monitor-threshold</c>
/// milliseconds, as redis-server 7.0 keeps them: at most 160 per event, one per second (a second's
/// later sample keeps the larger value), with the event's all-time maximum.
/// </summary>
/// <remarks>Touched only inside the command loop (the dispatcher and the cron record; commands read).</remarks>
public sealed class LatencyMonitor
{
    /// <summary>Samples kept per event (Redis's LATENCY_TS_LEN).</summary>
    public const int HistoryLength = 160;

    private readonly ServerOptions _options;
    private readonly Dictionary<string, EventHistory> _events = new(StringComparer.Ordinal);

    /// <param name="options">Whose <c>latency-monitor-threshold</c> (0: off) is read at each sample.</param>
    public LatencyMonitor(ServerOptions options) => _options = options;

    /// <summary>One recorded sample: when (Unix seconds) and how long (milliseconds).</summary>
    public readonly record struct Sample(long UnixSeconds, long Milliseconds);

    /// <summary>What is kept of one event.</summary>
    public sealed class EventHistory
    {
        internal readonly Sample[] Ring = new Sample[HistoryLength];
        internal int Next;
        internal int Count;

        /// <summary>The largest latency ever recorded for the event (until it is reset).</summary>
        public long Max { get; internal set; }

        /// <summary>The samples, oldest first.</summary>
        public IEnumerable<Sample> Samples
        {
            get
            {
                int start = (Next - Count + HistoryLength) % HistoryLength;
                for (int i = 0; i < Count; i++)
                    yield return Ring[(start + i) % HistoryLength];
            }
        }

        /// <summary>The most recent sample.</summary>
        public Sample Latest => Ring[(Next - 1 + HistoryLength) % HistoryLength];
    }

    /// <summary>True while a threshold is set: callers skip measuring what would not be recorded.</summary>
    public bool IsEnabled => _options.LatencyMonitorThreshold > 0;

    /// <summary>Every event with samples, in the order each was first recorded.</summary>
    public IReadOnlyDictionary<string, EventHistory> Events => _events;

    /// <summary>Records <paramref name="milliseconds"/> for <paramref name="eventName"/> when the threshold is set and reached.</summary>
    public void AddSampleIfNeeded(string eventName, long milliseconds)
    {
        long threshold = _options.LatencyMonitorThreshold;
        if (threshold > 0 && milliseconds >= threshold)
            AddSample(eventName, milliseconds, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
    }

    /// <summary>Records a sample (a second that already has one keeps the larger).</summary>
    public void AddSample(string eventName, long milliseconds, long unixSeconds)
    {
        if (!_events.TryGetValue(eventName, out var history))
            _events[eventName] = history = new EventHistory();
        history.Max = Math.Max(history.Max, milliseconds);
        if (history.Count > 0 && history.Latest.UnixSeconds == unixSeconds)
        {
            int last = (history.Next - 1 + HistoryLength) % HistoryLength;
            history.Ring[last] = new Sample(unixSeconds, Math.Max(milliseconds, history.Ring[last].Milliseconds));
            return;
        }
        history.Ring[history.Next] = new Sample(unixSeconds, milliseconds);
        history.Next = (history.Next + 1) % HistoryLength;
        history.Count = Math.Min(history.Count + 1, HistoryLength);
    }

    /// <summary>Forgets one event; false when it had no samples.</summary>
    public bool Reset(string eventName) => _events.Remove(eventName);

    /// <summary>Forgets every event; returns how many there were.</summary>
    public int ResetAll()
    {
        int count = _events.Count;
        _events.Clear();
        return count;
    }
}
