using System.Diagnostics;
using Psyncd.Storage;

namespace Psyncd.Server;

/// <summary>
/// The cron (Redis's serverCron): <c>hz</c> times a second it enters the loop and runs the periodic work:
/// statistics, the active expire cycle, idle-client timeouts, compaction, and whatever subsystems
/// registered (replication's once-a-second duties, save points...).
/// </summary>
public sealed partial class PsyncdServer
{
    private readonly List<Action> _cronJobs = new();
    private readonly List<Action> _secondJobs = new();
    private Thread? _cronThread;
    private volatile bool _cronRunning;
    private long _lastSecondJobs = Environment.TickCount64;

    /// <summary>Registers work to run at every cron tick (inside the loop).</summary>
    public void AddCronJob(Action job) => _cronJobs.Add(job);

    /// <summary>Registers work to run once a second (inside the loop).</summary>
    public void AddSecondJob(Action job) => _secondJobs.Add(job);

    private void StartCron()
    {
        _cronRunning = true;
        _cronThread = new Thread(CronMain) { IsBackground = true, Name = "psyncd cron" };
        _cronThread.Start();
    }

    private void StopCron()
    {
        _cronRunning = false;
        if (_cronThread is not null && _cronThread != Thread.CurrentThread)
            _cronThread.Join(TimeSpan.FromSeconds(5));
    }

    private void CronMain()
    {
        while (_cronRunning)
        {
            int period = 1000 / Math.Clamp(Options.Hz, 1, 500);
            Thread.Sleep(period);
            if (!_cronRunning)
                break;
            try
            {
                Loop.Run(() => CronTick(period));
                // Outside the loop: a full collection must not hold the loop while it waits for every
                // thread to reach a safe point.
                Memory.ReclaimIfDue();
            }
            catch (Exception e)
            {
                // A failing job must not stop the cron: expiry, timeouts and replication depend on it.
                Log.Warning("Error in cron: " + e);
            }
        }
    }

    private void CronTick(int periodMs)
    {
        Stats.Sample();
        // While a payload loads (the loader lets others in now and then), the cron must not act on a
        // half-loaded dataset: no save point, expiry, compaction or replication duty (Redis's whileBlockedCron).
        if (Loading)
            return;
        // Active expiry may use a quarter of the cron period, as Redis's slow cycle does. A replica
        // never expires keys on its own: it waits for its master's DELs.
        Keyspace.ExpiryMode = IsReplica ? ExpiryMode.Hide : ExpiryMode.Delete;
        Keyspace.ActiveExpireCycle(TimeSpan.FromMilliseconds(periodMs / 4.0));
        Processor.Propagation.FlushTo(Stream, wrap: false);
        Keyspace.CompactStep(maxBytes: 4 * Options.StoreLogPageSize, minimumLogBytes: 64L << 20);
        Memory.CheckReleasedMemory();
        foreach (var job in _cronJobs)
            job();
        long now = Environment.TickCount64;
        if (now - _lastSecondJobs >= 1000)
        {
            _lastSecondJobs = now;
            Registry.CloseIdleClients();
            Memory.SampleUsedMemory();
            foreach (var job in _secondJobs)
                job();
        }
        Debug.Assert(Loop.IsInside);
    }
}
