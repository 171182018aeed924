using Psyncd.Execution;

namespace Psyncd.Server;

/// <summary>CLIENT PAUSE: while paused, clients other than replicas and our master run no commands.</summary>
public sealed partial class PsyncdServer
{
    private readonly List<Client> _pausedClients = new();

    /// <summary>When the pause ends (Environment.TickCount64); 0 when no pause is active.</summary>
    public long ClientPauseEndMs { get; private set; }

    public long UsedMemoryPeak => Memory.UsedMemoryPeak;

    /// <summary>Pauses client commands for <paramref name="milliseconds"/> (CLIENT PAUSE); a later end wins.</summary>
    public void PauseClients(long milliseconds)
    {
        long end = Environment.TickCount64 + milliseconds;
        if (end <= ClientPauseEndMs)
            return;
        ClientPauseEndMs = end;
        _ = Task.Delay(TimeSpan.FromMilliseconds(milliseconds + 1)).ContinueWith(_ => Loop.Run(EndPauseIfDue), TaskScheduler.Default);
    }

    /// <summary>
    /// Called by the processor before each request of <paramref name="client"/>: true when the client must
    /// wait for the pause to end (its input stays buffered and is processed when the pause is over).
    /// </summary>
    internal bool DeferWhilePaused(Client client)
    {
        if (ClientPauseEndMs == 0)
            return false;
        if (Environment.TickCount64 >= ClientPauseEndMs)
        {
            EndPauseIfDue();
            return false;
        }
        if (client.Has(ClientFlags.Replica | ClientFlags.Master))
            return false;
        if (!_pausedClients.Contains(client))
            _pausedClients.Add(client);
        return true;
    }

    private void EndPauseIfDue()
    {
        if (ClientPauseEndMs == 0 || Environment.TickCount64 < ClientPauseEndMs)
            return;
        ClientPauseEndMs = 0;
        foreach (var client in _pausedClients)
            client.Connection?.Resume();
        _pausedClients.Clear();
    }

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

    /// <summary>Set by pub/sub: the number of channels with subscribers (INFO pubsub_channels).</summary>
    public Func<long>? PubSubChannelCount { get; set; }

    /// <summary>Set by pub/sub: the number of subscribed patterns (INFO pubsub_patterns).</summary>
    public Func<long>? PubSubPatternCount { get; set; }


    /// <summary>
    /// Shuts the server down as SHUTDOWN and SIGTERM/SIGINT do (inside the loop): saves first when
    /// <paramref name="save"/> says so, or when it is null and save points are configured; a failed save
    /// keeps the server running unless <paramref name="force"/>. Returns false when it keeps running.
    /// </summary>
    public bool Shutdown(bool? save, bool force, string reason)
    {
        Log.Warning(reason);
        if (!SaveOnShutdown(save) && !force)
        {
            Log.Warning("Errors trying to shut down the server. Check the logs for more information.");
            return false;
        }
        RequestShutdown(0);
        return true;
    }
}
