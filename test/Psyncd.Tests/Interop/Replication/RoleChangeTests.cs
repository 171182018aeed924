using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Replication;

/// <summary>What a master's clients see when it turns replica (Redis 2.8's replication.tcl, issue #2473).</summary>
[Category("Replication")]
public class RoleChangeTests
{
    private const string Unblocked = "-UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)\r\n";

    /// <summary>
    /// A client blocked on B while B is a master must not be served by the pushes of B's new master: that
    /// pop would happen on B only, and B would diverge. As redis-server 7.0 does, every blocked client
    /// (BLPOP, BRPOPLPUSH, WAIT) gets the UNBLOCKED error and its connection is closed.
    /// </summary>
    [TestCase("psyncd")]
    [TestCase("redis-server")]
    public void ClientsBlockedOnAMasterThatTurnsReplicaGetAnErrorAndTheReplicaDoesNotDiverge(string kind)
    {
        using var a = ServerProcess.StartPsyncd();
        using var b = kind == "psyncd" ? ServerProcess.StartPsyncd() : ServerProcess.StartRedis();
        using var blpop = new RawClient(b.Port);
        using var brpoplpush = new RawClient(b.Port);
        using var wait = new RawClient(b.Port);
        using var admin = b.Connect();
        blpop.Send("BLPOP", "foo", "0");
        brpoplpush.Send("BRPOPLPUSH", "foo", "bar", "0");
        wait.Send("WAIT", "1", "0");
        Eventually.True(() => ReplicationWatch.Info(b.Port, "clients")["blocked_clients"] == "3", TimeSpan.FromSeconds(10), "three clients are blocked on B");

        Assert.That(admin.Command("REPLICAOF", "127.0.0.1", a.Port.ToString()), Is.EqualTo("+OK\r\n"));
        Assert.That(blpop.ReadReply(), Is.EqualTo(Unblocked));
        Assert.That(brpoplpush.ReadReply(), Is.EqualTo(Unblocked));
        Assert.That(wait.ReadReply(), Is.EqualTo(Unblocked));
        Assert.That(blpop.IsClosedByServer(TimeSpan.FromSeconds(5)), Is.True, "the BLPOP client is closed after its reply");
        Assert.That(wait.IsClosedByServer(TimeSpan.FromSeconds(5)), Is.True, "the WAIT client is closed after its reply");

        ReplicationWatch.WaitForSync(a.Port, b.Port);
        using var m = a.Connect();
        m.Command("RPUSH", "foo", "a", "b", "c");
        ReplicationWatch.WaitForSync(a.Port, b.Port);
        Assert.That(admin.Command("LRANGE", "foo", "0", "-1"), Is.EqualTo("*3\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n"));
        Assert.That(DatasetText.Describe(b.Port), Is.EqualTo(DatasetText.Describe(a.Port)));
    }
}
