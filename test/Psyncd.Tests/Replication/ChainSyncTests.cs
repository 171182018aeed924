using Psyncd.Tests.Support;

namespace Psyncd.Tests.Replication;

/// <summary>
/// A sub-replica full-syncing from a replica (the middle of a chain) while its master's stream flows:
/// the middle node forwards that stream verbatim, so the payload it serves must start the sub-replica in
/// the database that stream is in, at an offset that never splits what it has received.
/// </summary>
[Category("Replication")]
public class ChainSyncTests
{
    /// <summary>
    /// A ← B ← C, where B is psyncd and A, C are given: the top's stream sits in db 2 when C attaches, and
    /// the next write (no SELECT before it: the stream is still in db 2) must land in db 2 on C.
    /// </summary>
    private static void SubReplicaStartsInTheStreamsDatabase(Func<ServerProcess> startTop, Func<int, ServerProcess> startBottom, params string[] middleArgs)
    {
        using var top = startTop();
        using var middle = ServerProcess.StartPsyncd(["--slaveof", "127.0.0.1", top.Port.ToString(), .. middleArgs]);
        ReplicationWatch.WaitForSync(top.Port, middle.Port);
        using var a = top.Connect();
        a.Command("SELECT", "2");
        a.Command("SET", "x", "1");
        ReplicationWatch.WaitForSync(top.Port, middle.Port);

        using var bottom = startBottom(middle.Port);
        ReplicationWatch.WaitForSync(middle.Port, bottom.Port);
        a.Command("SET", "y", "1");
        ReplicationWatch.WaitForSync(top.Port, middle.Port);
        ReplicationWatch.WaitForSync(middle.Port, bottom.Port);

        string expected = Dataset.Describe(top.Port);
        Assert.That(expected, Is.EqualTo("2 string x = 1\n2 string y = 1\n"));
        Assert.That(Dataset.Describe(middle.Port), Is.EqualTo(expected));
        Assert.That(Dataset.Describe(bottom.Port), Is.EqualTo(expected));
    }

    [Test]
    public void PsyncdChainSubReplicaStartsInTheStreamsDatabase()
        => SubReplicaStartsInTheStreamsDatabase(
            () => ServerProcess.StartPsyncd(),
            port => ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", port.ToString()));

    [Test]
    public void RedisPsyncdRedisChainSubReplicaStartsInTheStreamsDatabase()
        => SubReplicaStartsInTheStreamsDatabase(
            () => ServerProcess.StartRedis(),
            port => ServerProcess.StartRedis("--replicaof", "127.0.0.1", port.ToString(), "--repl-diskless-load", "disabled"));

    [Test]
    public void DisklessSubReplicaStartsInTheStreamsDatabase()
        => SubReplicaStartsInTheStreamsDatabase(
            () => ServerProcess.StartPsyncd(),
            port => ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", port.ToString()),
            "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0");
}
