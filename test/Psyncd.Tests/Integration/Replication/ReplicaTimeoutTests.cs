using Psyncd.Tests.Support;

namespace Psyncd.Tests.Integration.Replication;

/// <summary>
/// A replica gives up on a master silent for repl-timeout seconds before the stream starts, logs Redis's
/// words for it (replicationCron's), and connects again.
/// </summary>
[Category("Replication")]
public class ReplicaTimeoutTests
{
    /// <summary>
    /// Redis 2.8's "Slave is able to detect timeout during handshake": a diskless master that delays its
    /// snapshot keeps the replica waiting for the PSYNC reply, alive only through its keepalive newlines;
    /// once the master stops, the replica must time out and try again.
    /// </summary>
    [Test]
    public void MasterSilentDuringTheHandshakeTimesOutAndTheReplicaRetries()
    {
        using var master = ServerProcess.StartPsyncd("--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "1000");
        using var replica = ServerProcess.StartPsyncd("--repl-timeout", "2", "--slaveof", "127.0.0.1", master.Port.ToString());
        using var r = replica.Connect();
        Eventually.True(() => r.Command("ROLE").Contains("handshake"), TimeSpan.FromSeconds(15), "the replica waits in the handshake");
        Eventually.True(() => replica.Output.Contains("Trying a partial resynchronization") || replica.Output.Contains("Partial resynchronization not possible"),
            TimeSpan.FromSeconds(15), "the replica sent PSYNC");
        Posix.Signal(master.Pid, Posix.SIGSTOP);
        try
        {
            Eventually.True(() => replica.Output.Contains("Timeout connecting to the MASTER..."), TimeSpan.FromSeconds(15),
                "the replica logs the handshake timeout");
            Eventually.True(() => replica.Output.Split("MASTER <-> REPLICA sync started").Length > 2, TimeSpan.FromSeconds(15),
                "the replica connects again");
            Assert.That(replica.Output, Does.Not.Contain("Error condition on socket for SYNC"), "a timeout is logged as one, not as a socket error");
        }
        finally
        {
            Posix.Signal(master.Pid, Posix.SIGCONT);
        }
    }
}
