
namespace Psyncd.Server;

/// <summary>CLIENT PAUSE: while paused, clients other than replicas and our master run no commands.</summary>
public sealed partial class PsyncdServer
{
    public long UsedMemoryPeak => Memory.UsedMemoryPeak;

    internal long SampleUsedMemory() => Memory.SampleUsedMemory();

    /// <summary>Resets the counters CONFIG RESETSTAT resets: server stats, command stats, keyspace hits and misses.</summary>
    public void ResetStatistics()
    {
        Stats.Reset();
        Loop.OutputBytes = 0;
        foreach (var cmd in Commands.All)
        {
            cmd.Calls = 0;
            cmd.Microseconds = 0;
        }
        Keyspace.KeyspaceHits = 0;
        Keyspace.KeyspaceMisses = 0;
        Keyspace.ExpiredKeys = 0;
        Memory.ResetPeak();
    }




    /// <summary>
    /// Shuts the server down as SHUTDOWN and SIGTERM/SIGINT do (inside the loop): saves first when
    /// <paramref name="save"/> says so, or when it is null and save points are configured; a failed save
    /// keeps the server running unless <paramref name="force"/>. Returns false when it keeps running.
    /// </summary>
    public bool Shutdown(bool? save, bool force, string reason)
    {
        Log.Warning(reason);
        if (!RdbPersistence.SaveOnShutdown(save) && !force)
        {
            Log.Warning("Errors trying to shut down the server. Check the logs for more information.");
            return false;
        }
        RequestShutdown(0);
        return true;
    }
}
