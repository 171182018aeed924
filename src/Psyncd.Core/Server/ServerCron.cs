using System.Diagnostics;
using Psyncd.Storage;

namespace Psyncd.Server;

/// <summary>
/// The cron (Redis's serverCron): <c>hz</c> times a second it enters the loop and runs the periodic work, named
/// one by one in <see cref="Tick"/>: statistics, the active expire cycle, compaction, output limits, blocking
/// timeouts, save points, and once a second idle-client timeouts, the memory sample and replication's duties.
/// Part of the root: it reads the components the root built.
/// </summary>
internal sealed class ServerCron
{
    private readonly PsyncdServer _server;
    private Thread? _thread;
    private volatile bool _running;
    private long _lastSecondJobs = Environment.TickCount64;

    public ServerCron(PsyncdServer server)
    {
        _server = server;
    }

    public void Start()
    {
        _running = true;
        _thread = new Thread(Main) { IsBackground = true, Name = "psyncd cron" };
        _thread.Start();
    }

    public void Stop()
    {
        _running = false;
        if (_thread is not null && _thread != Thread.CurrentThread)
            _thread.Join(TimeSpan.FromSeconds(5));
    }

    private void Main()
    {
        while (_running)
        {
            int period = 1000 / Math.Clamp(_server.Options.Hz, 1, 500);
            Thread.Sleep(period);
            if (!_running)
                break;
            try
            {
                _server.Loop.Run(() => Tick(period));
                // Outside the loop: a full collection must not hold the loop while it waits for every
                // thread to reach a safe point.
                _server.Memory.ReclaimIfDue();
            }
            catch (Exception e)
            {
                // A failing job must not stop the cron: expiry, timeouts and replication depend on it.
                _server.Log.Warning("Error in cron: " + e);
            }
        }
    }

    /// <summary>The index of the last collection whose pause was sampled.</summary>
    private long _lastGcIndex;

    /// <summary>
    /// The latency monitor's "gc" event (psyncd's own): the longest pause of the last collection, when one ran since
    /// the previous tick. A pause stops every thread, the event loop's too; a tick that saw several samples the last.
    /// </summary>
    private void SampleGcPause()
    {
        var latency = _server.Latency;
        if (!latency.IsEnabled)
            return;
        var info = GC.GetGCMemoryInfo(GCKind.Any);
        if (info.Index == _lastGcIndex)
            return;
        _lastGcIndex = info.Index;
        var longest = TimeSpan.Zero;
        foreach (var pause in info.PauseDurations)
            longest = pause > longest ? pause : longest;
        latency.AddSampleIfNeeded("gc", (long)longest.TotalMilliseconds);
    }

    private void Tick(int periodMs)
    {
        var s = _server;
        s.Stats.Sample();
        // While a payload loads (the loader lets others in now and then), the cron must not act on a
        // half-loaded dataset: no save point, expiry, compaction or replication duty (Redis's whileBlockedCron).
        if (s.Dataset.Loading)
            return;
        // Nor while a script is busy: its effects are half collected (a flush here would send them apart from
        // the rest) and its keys must not expire under it (Redis's whileBlockedCron does no more either).
        if (s.Processor.ScriptBusy)
            return;
        // Active expiry may use a quarter of the cron period, as Redis's slow cycle does. A replica
        // never expires keys on its own: it waits for its master's DELs.
        s.Keyspace.ExpiryMode = s.Role.IsReplica ? ExpiryMode.Hide : ExpiryMode.Delete;
        long expireStart = Stopwatch.GetTimestamp();
        s.Keyspace.ActiveExpireCycle(TimeSpan.FromMilliseconds(periodMs / 4.0));
        s.Latency.AddSampleIfNeeded("expire-cycle", (long)Stopwatch.GetElapsedTime(expireStart).TotalMilliseconds);
        SampleGcPause();
        s.Processor.Propagation.FlushTo(s.Stream, wrap: false);
        // A round of evictions that ran out of time goes on here too, as Redis's eviction time event does.
        s.Processor.Eviction.Perform();
        // 16 MB a tick at least: the pace of four pages when pages were 4 MB, whatever the page size now.
        s.Keyspace.CompactStep(maxBytes: Math.Max(4 * s.Options.StoreLogPageSize, 16L << 20), minimumLogBytes: 64L << 20);
        s.Memory.CheckReleasedMemory();
        s.Memory.CheckIdle(s.Stats.TotalCommandsProcessed);
        s.Limiter.CheckAllOutputLimits(s.Registry.Clients.Values);
        s.BlockingRegistry.ExpireTimeouts();
        s.RdbPersistence.CheckSavePoints();
        s.Aof.Cron();
        long now = Environment.TickCount64;
        if (now - _lastSecondJobs >= 1000)
        {
            _lastSecondJobs = now;
            s.Registry.CloseIdleClients();
            s.Memory.SampleUsedMemory();
            s.ReplicationManager.Cron();
            s.Migrate.CloseIdleLinks();
        }
        Debug.Assert(s.Loop.IsInside);
    }
}
