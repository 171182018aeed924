using System.Diagnostics;
using System.Text;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Server;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Integration.Blocking;

/// <summary>
/// BLPOP, BRPOP, BRPOPLPUSH with several connections. The server runs in-process so that the tests can
/// wait until a client is really blocked (the registry's count) instead of sleeping, and can feed a
/// master's stream the way a replica's link does.
/// </summary>
public class BlockingTests
{
    private PsyncdServer _server = null!;
    private int _port;

    [OneTimeSetUp]
    public async Task Start()
    {
        string dir = ServerProcess.NewDir();
        _port = FreePort.Next();
        var options = new ServerOptions
        {
            Port = _port,
            Bind = new List<string> { "127.0.0.1" },
            Dir = dir,
            Save = new(),
            StoreLogMemory = 64L << 20,
        };
        _server = new PsyncdServer(options, new ServerLog(Path.Combine(dir, "psyncd.log"), LogLevel.Notice));
        await _server.StartAsync();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        if (_server is not null)
            await _server.DisposeAsync();
    }

    private RawClient Connect() => new(_port);

    private int Blocked()
    {
        int count = 0;
        _server.Loop.Run(() => count = _server.BlockingRegistry.Count);
        return count;
    }

    /// <summary>Sends a blocking command and waits until the server has blocked the client.</summary>
    private void SendAndWaitBlocked(RawClient client, params string[] command)
    {
        int before = Blocked();
        client.Send(command);
        Eventually.True(() => Blocked() == before + 1, TimeSpan.FromSeconds(10), string.Join(' ', command) + " blocks");
    }

    [Test]
    public void PushFromAnotherClientWakesABlockedPop()
    {
        using var waiter = Connect();
        using var pusher = Connect();
        SendAndWaitBlocked(waiter, "BLPOP", "b:wake", "0");
        Assert.That(pusher.Command("RPUSH", "b:wake", "x"), Is.EqualTo(":1\r\n"));
        Assert.That(waiter.ReadReply(), Is.EqualTo("*2\r\n$6\r\nb:wake\r\n$1\r\nx\r\n"));
        Assert.That(pusher.Command("EXISTS", "b:wake"), Is.EqualTo(":0\r\n"), "the served element is gone and the empty list deleted");
        Assert.That(Blocked(), Is.EqualTo(0));
        Assert.That(waiter.Command("PING"), Is.EqualTo("+PONG\r\n"), "the connection serves commands again");
    }

    [Test]
    public void ClientsAreServedInArrivalOrder()
    {
        using var first = Connect();
        using var second = Connect();
        using var third = Connect();
        using var pusher = Connect();
        SendAndWaitBlocked(first, "BLPOP", "b:fifo", "0");
        SendAndWaitBlocked(second, "BRPOP", "b:fifo", "0");
        SendAndWaitBlocked(third, "BLPOP", "b:fifo", "0");
        Assert.That(pusher.Command("RPUSH", "b:fifo", "1"), Is.EqualTo(":1\r\n"));
        Assert.That(first.ReadReply(), Is.EqualTo("*2\r\n$6\r\nb:fifo\r\n$1\r\n1\r\n"));
        Assert.That(Blocked(), Is.EqualTo(2), "one element serves one client");
        Assert.That(pusher.Command("RPUSH", "b:fifo", "2", "3", "4"), Is.EqualTo(":3\r\n"));
        Assert.That(second.ReadReply(), Is.EqualTo("*2\r\n$6\r\nb:fifo\r\n$1\r\n4\r\n"), "BRPOP takes the tail");
        Assert.That(third.ReadReply(), Is.EqualTo("*2\r\n$6\r\nb:fifo\r\n$1\r\n2\r\n"));
        Assert.That(pusher.Command("LRANGE", "b:fifo", "0", "-1"), Is.EqualTo("*1\r\n$1\r\n3\r\n"));
        pusher.Command("DEL", "b:fifo");
    }

    [Test]
    public void SeveralKeysAreWatchedAndTheFirstNonEmptyIsPopped()
    {
        using var client = Connect();
        using var pusher = Connect();
        pusher.Command("RPUSH", "b:k2", "two");
        pusher.Command("RPUSH", "b:k3", "three");
        Assert.That(client.Command("BLPOP", "b:k1", "b:k3", "b:k2", "0"), Is.EqualTo("*2\r\n$4\r\nb:k3\r\n$5\r\nthree\r\n"));
        Assert.That(client.Command("BRPOP", "b:k1", "b:k2", "0"), Is.EqualTo("*2\r\n$4\r\nb:k2\r\n$3\r\ntwo\r\n"));
        SendAndWaitBlocked(client, "BLPOP", "b:k1", "b:k2", "b:k1", "0");
        pusher.Command("LPUSH", "b:k2", "late");
        Assert.That(client.ReadReply(), Is.EqualTo("*2\r\n$4\r\nb:k2\r\n$4\r\nlate\r\n"));
        Assert.That(Blocked(), Is.EqualTo(0), "served from one key, the client waits on none of them");
    }

    [Test]
    public void TimeoutsAnswerNilAndAcceptDecimals()
    {
        using var client = Connect();
        var watch = Stopwatch.StartNew();
        Assert.That(client.Command("BLPOP", "b:never", "0.3"), Is.EqualTo("*-1\r\n"));
        Assert.That(watch.ElapsedMilliseconds, Is.InRange(250, 5000));
        Assert.That(client.Command("BRPOPLPUSH", "b:never", "b:dst", "0.05"), Is.EqualTo("*-1\r\n"));
        Assert.That(client.Command("BRPOP", "b:never", "1e-1"), Is.EqualTo("*-1\r\n"));
        Assert.That(client.Command("BLPOP", "b:never", "abc"), Is.EqualTo("-ERR timeout is not a float or out of range\r\n"));
        Assert.That(client.Command("BLPOP", "b:never", "-1"), Is.EqualTo("-ERR timeout is negative\r\n"));
        Assert.That(client.Command("BLPOP", "b:never", "inf"), Is.EqualTo("-ERR timeout is negative\r\n"));
        Assert.That(client.Command("BLPOP", "b:never"), Is.EqualTo("-ERR wrong number of arguments for 'blpop' command\r\n"));
        Assert.That(Blocked(), Is.EqualTo(0));
    }

    [Test]
    public void InsideMultiBlockingCommandsDoNotBlock()
    {
        using var client = Connect();
        client.Command("RPUSH", "b:mfull", "v");
        Assert.That(client.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(client.Command("BLPOP", "b:mempty", "0"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(client.Command("BRPOPLPUSH", "b:mempty", "b:x", "0"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(client.Command("BRPOP", "b:mfull", "0"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(client.Command("EXEC"), Is.EqualTo("*3\r\n*-1\r\n$-1\r\n*2\r\n$7\r\nb:mfull\r\n$1\r\nv\r\n"));
        Assert.That(Blocked(), Is.EqualTo(0));
    }

    [Test]
    public void APushInsideExecWakesABlockedClient()
    {
        using var waiter = Connect();
        using var writer = Connect();
        SendAndWaitBlocked(waiter, "BLPOP", "b:exec", "0");
        writer.Command("MULTI");
        writer.Command("RPUSH", "b:exec", "a");
        writer.Command("RPUSH", "b:exec", "b");
        Assert.That(writer.Command("EXEC"), Is.EqualTo("*2\r\n:1\r\n:2\r\n"), "the client is served after the transaction, not in between");
        Assert.That(waiter.ReadReply(), Is.EqualTo("*2\r\n$6\r\nb:exec\r\n$1\r\na\r\n"));
        Assert.That(writer.Command("LRANGE", "b:exec", "0", "-1"), Is.EqualTo("*1\r\n$1\r\nb\r\n"));
    }

    [Test]
    public void BrpoplpushMovesAndWakesClientsWaitingOnTheDestination()
    {
        using var mover = Connect();
        using var downstream = Connect();
        using var pusher = Connect();
        SendAndWaitBlocked(mover, "BRPOPLPUSH", "b:src", "b:dst", "0");
        SendAndWaitBlocked(downstream, "BLPOP", "b:dst", "0");
        Assert.That(pusher.Command("RPUSH", "b:src", "1", "2"), Is.EqualTo(":2\r\n"));
        Assert.That(mover.ReadReply(), Is.EqualTo("$1\r\n2\r\n"));
        Assert.That(downstream.ReadReply(), Is.EqualTo("*2\r\n$5\r\nb:dst\r\n$1\r\n2\r\n"), "the push into the destination serves its waiter");
        Assert.That(pusher.Command("LRANGE", "b:src", "0", "-1"), Is.EqualTo("*1\r\n$1\r\n1\r\n"));
        Assert.That(pusher.Command("EXISTS", "b:dst"), Is.EqualTo(":0\r\n"));
    }

    [Test]
    public void BrpoplpushToAKeyOfAnotherTypeFailsAndKeepsTheElement()
    {
        using var mover = Connect();
        using var pusher = Connect();
        pusher.Command("SET", "b:wdst", "string");
        SendAndWaitBlocked(mover, "BRPOPLPUSH", "b:wsrc", "b:wdst", "0");
        Assert.That(pusher.Command("RPUSH", "b:wsrc", "a"), Is.EqualTo(":1\r\n"));
        Assert.That(mover.ReadReply(), Is.EqualTo("-WRONGTYPE Operation against a key holding the wrong kind of value\r\n"));
        Assert.That(pusher.Command("LRANGE", "b:wsrc", "0", "-1"), Is.EqualTo("*1\r\n$1\r\na\r\n"));
        Assert.That(Blocked(), Is.EqualTo(0));
    }

    [Test]
    public void ADisconnectedClientIsForgotten()
    {
        using var pusher = Connect();
        var waiter = Connect();
        SendAndWaitBlocked(waiter, "BLPOP", "b:gone", "0");
        waiter.Dispose();
        Eventually.True(() => Blocked() == 0, TimeSpan.FromSeconds(10), "the closed client is unblocked");
        Assert.That(pusher.Command("RPUSH", "b:gone", "kept"), Is.EqualTo(":1\r\n"));
        Assert.That(pusher.Command("LRANGE", "b:gone", "0", "-1"), Is.EqualTo("*1\r\n$4\r\nkept\r\n"));
    }

    [Test]
    public void PipelinedCommandsAfterABlockingOneRunOnceItIsServed()
    {
        using var waiter = Connect();
        using var pusher = Connect();
        int before = Blocked();
        waiter.SendRaw("*3\r\n$5\r\nBLPOP\r\n$6\r\nb:pipe\r\n$1\r\n0\r\n*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nLLEN\r\n$6\r\nb:pipe\r\n");
        Eventually.True(() => Blocked() == before + 1, TimeSpan.FromSeconds(10), "BLPOP blocks");
        pusher.Command("RPUSH", "b:pipe", "a", "b");
        Assert.That(waiter.ReadReply(), Is.EqualTo("*2\r\n$6\r\nb:pipe\r\n$1\r\na\r\n"));
        Assert.That(waiter.ReadReply(), Is.EqualTo("+PONG\r\n"));
        Assert.That(waiter.ReadReply(), Is.EqualTo(":1\r\n"));
    }

    [Test]
    public void AMastersStreamWakesClientsBlockedOnAReplica()
    {
        // The replica's link to its master is a client flagged Master whose input is the master's stream.
        using var waiter = Connect();
        SendAndWaitBlocked(waiter, "BRPOP", "b:repl", "0");
        var stream = Encoding.ASCII.GetBytes("*3\r\n$5\r\nRPUSH\r\n$6\r\nb:repl\r\n$4\r\nfrom\r\n");
        _server.Loop.Run(() =>
        {
            var master = new Client(new ClientOutput(_server.Loop), null, null) { Flags = ClientFlags.Master };
            _server.Registry.AddClient(master);
            Assert.That(_server.Processor.ProcessInput(master, stream), Is.EqualTo(stream.Length));
            _server.Registry.RemoveClient(master, null);
        });
        Assert.That(waiter.ReadReply(), Is.EqualTo("*2\r\n$6\r\nb:repl\r\n$4\r\nfrom\r\n"));
    }
}
