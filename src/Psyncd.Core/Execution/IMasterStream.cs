namespace Psyncd.Execution;

/// <summary>
/// What the dispatcher tells replication about requests from a replica or from our master (declared here so
/// that Execution never names Replication; implemented by <c>ReplicationManager</c>, set by the root).
/// </summary>
public interface IMasterStream
{
    /// <summary>An empty request (a bare newline) from <paramref name="client"/>: a replica's keepalive refreshes its link.</summary>
    void Keepalive(Client client);

    /// <summary>A request of our master's stream was applied: it is forwarded verbatim and the offset advances.</summary>
    void OnMasterRequestApplied(Client master, ReadOnlySpan<byte> request);
}
