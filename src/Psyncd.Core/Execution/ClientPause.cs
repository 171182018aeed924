
namespace Psyncd.Execution;

/// <summary>CLIENT PAUSE: while paused, clients other than replicas and our master run no commands.</summary>
public sealed class ClientPause
{
    private readonly CommandLoop _loop;

    public ClientPause(CommandLoop loop)
    {
        _loop = loop;
    }

    private readonly List<Client> _pausedClients = new();

    /// <summary>When the pause ends (Environment.TickCount64); 0 when no pause is active.</summary>
    public long ClientPauseEndMs { get; private set; }

    /// <summary>Pauses client commands for <paramref name="milliseconds"/> (CLIENT PAUSE); a later end wins.</summary>
    public void PauseClients(long milliseconds)
    {
        long end = Environment.TickCount64 + milliseconds;
        if (end <= ClientPauseEndMs)
            return;
        ClientPauseEndMs = end;
        _ = Task.Delay(TimeSpan.FromMilliseconds(milliseconds + 1)).ContinueWith(_ => _loop.Run(EndPauseIfDue), TaskScheduler.Default);
    }

    /// <summary>
    /// Called by the processor before each request of <paramref name="client"/>: true when the client must
    /// wait for the pause to end (its input stays buffered and is processed when the pause is over).
    /// </summary>
    public bool DeferWhilePaused(Client client)
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
}
