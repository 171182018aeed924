using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Execution;

/// <summary>
/// Commands that once threw (argument edges), and the dispatcher's last line of defence when one does:
/// each command gets exactly one reply, the connection and the replies queued before it survive, a
/// transaction runs to its end, and a replica (a real redis-server) ends with what the master holds.
/// </summary>
[Category("Replication")]
public class HandlerFailureTests
{
    private ServerProcess _master = null!;
    private ServerProcess _replica = null!;

    [OneTimeSetUp]
    public void Start()
    {
        _master = ServerProcess.StartPsyncd("--enable-debug-command", "yes");
        _replica = ServerProcess.StartRedis("--replicaof", "127.0.0.1", _master.Port.ToString(), "--repl-diskless-load", "disabled");
        ReplicationWatch.WaitForSync(_master.Port, _replica.Port);
    }

    [OneTimeTearDown]
    public void Stop()
    {
        _replica?.Dispose();
        _master?.Dispose();
    }

    /// <summary>Sends every command in one write (a pipeline) and reads one reply per command.</summary>
    private static string[] Pipeline(RawClient client, params string[][] commands)
    {
        var bytes = new List<byte>();
        foreach (var command in commands)
            bytes.AddRange(RawClient.Encode(command.Select(a => System.Text.Encoding.Latin1.GetBytes(a)).ToArray()));
        client.SendRaw(bytes.ToArray());
        return commands.Select(_ => client.ReadReply()).ToArray();
    }

    private void AssertReplicaHoldsTheMastersData()
    {
        ReplicationWatch.WaitForSync(_master.Port, _replica.Port);
        Assert.That(DatasetText.Describe(_replica.Port), Is.EqualTo(DatasetText.Describe(_master.Port)));
    }

    [Test]
    public void LremWithMinusTwoToThe63RemovesEveryMatchFromTheTailAsRedisDoes()
    {
        using var c = _master.Connect();
        c.Command("RPUSH", "fail:lrem", "x", "y", "x", "z", "x");
        // redis-server 7.0.15 answers :3 (it negates -2^63 into itself: a limit never reached).
        Assert.That(c.Command("LREM", "fail:lrem", "-9223372036854775808", "x"), Is.EqualTo(":3\r\n"));
        Assert.That(c.Command("LRANGE", "fail:lrem", "0", "-1"), Is.EqualTo("*2\r\n$1\r\ny\r\n$1\r\nz\r\n"));
        Assert.That(c.Command("LREM", "fail:lrem:missing", "-9223372036854775808", "x"), Is.EqualTo(":0\r\n"));

        c.Command("RPUSH", "fail:lrem:p", "x", "x");
        var replies = Pipeline(c, ["SET", "fail:lrem:before", "1"], ["LREM", "fail:lrem:p", "-9223372036854775808", "x"], ["GET", "fail:lrem:before"]);
        Assert.That(replies, Is.EqualTo(new[] { "+OK\r\n", ":2\r\n", "$1\r\n1\r\n" }), "pipelined: every reply arrives");
        AssertReplicaHoldsTheMastersData();
    }

    [Test]
    public void SetrangeAtTheLargestOffsetIsRefusedAsRedisRefusesIt()
    {
        using var c = _master.Connect();
        const string TooLong = "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n";
        Assert.That(c.Command("SETRANGE", "fail:setrange", "9223372036854775807", "abc"), Is.EqualTo(TooLong));
        Assert.That(c.Command("SETRANGE", "fail:setrange", "536870911", "abc"), Is.EqualTo(TooLong));
        Assert.That(c.Command("SETRANGE", "fail:setrange", "9223372036854775807", ""), Is.EqualTo(":0\r\n"));
        Assert.That(c.Command("EXISTS", "fail:setrange"), Is.EqualTo(":0\r\n"));

        var replies = Pipeline(c, ["MULTI"], ["SET", "fail:setrange:a", "1"], ["SETRANGE", "fail:setrange:b", "9223372036854775807", "abc"],
            ["SET", "fail:setrange:c", "3"], ["EXEC"], ["GET", "fail:setrange:c"]);
        Assert.That(replies[4], Is.EqualTo("*3\r\n+OK\r\n" + TooLong + "+OK\r\n"));
        Assert.That(replies[5], Is.EqualTo("$1\r\n3\r\n"));
        AssertReplicaHoldsTheMastersData();
    }

    [Test]
    public void AnUnexpectedExceptionAnswersThatCommandAndKeepsTheConnection()
    {
        using var c = _master.Connect();
        var replies = Pipeline(c, ["SET", "fail:bug:before", "1"], ["DEBUG", "FAIL-AFTER-SET", "fail:bug:key", "applied"], ["GET", "fail:bug:before"]);
        Assert.That(replies[0], Is.EqualTo("+OK\r\n"));
        Assert.That(replies[1], Does.StartWith("-ERR internal error executing 'debug'"), "one error reply, the half-written one taken back");
        Assert.That(replies[2], Is.EqualTo("$1\r\n1\r\n"), "the connection goes on");
        Assert.That(c.Command("GET", "fail:bug:key"), Is.EqualTo("$7\r\napplied\r\n"), "what the command applied stays");
        Eventually.True(() => _master.Output.Contains("Unexpected exception executing 'debug'") && _master.Output.Contains("InjectedFault"),
            TimeSpan.FromSeconds(10), "the server logs the failure with its stack");
        AssertReplicaHoldsTheMastersData();
    }

    [Test]
    public void AnUnexpectedExceptionInsideExecLetsTheRestOfTheTransactionRun()
    {
        using var c = _master.Connect();
        c.Command("SET", "fail:exec:key", "old");
        c.Command("PEXPIRE", "fail:exec:key", "1000000");
        var replies = Pipeline(c, ["MULTI"], ["SET", "fail:exec:a", "1"], ["DEBUG", "FAIL-AFTER-SET", "fail:exec:key", "new"],
            ["RPUSH", "fail:exec:b", "x"], ["EXEC"], ["PING"]);
        Assert.That(replies[4], Does.StartWith("*3\r\n+OK\r\n-ERR internal error executing 'debug'"));
        Assert.That(replies[4], Does.EndWith("\r\n:1\r\n"));
        Assert.That(replies[5], Is.EqualTo("+PONG\r\n"));
        Assert.That(c.Command("GET", "fail:exec:key"), Is.EqualTo("$3\r\nnew\r\n"));
        AssertReplicaHoldsTheMastersData();
        using var r = _replica.Connect();
        Assert.That(r.Command("TTL", "fail:exec:key"), Is.EqualTo(":-1\r\n"), "the key's state went over, its lost time to live included");
    }

    /// <summary>Sets 900-byte strings until the store refuses one (OOM); returns how many were set.</summary>
    private static int FillUntilFull(RawClient c)
    {
        var value = new string('v', 900);
        for (int start = 0; start < 100_000; start += 500)
        {
            for (int i = start; i < start + 500; i++)
                c.Send("SET", "fill:" + i, value);
            bool full = false;
            for (int i = start; i < start + 500; i++)
                full |= c.ReadReply().StartsWith("-OOM ", StringComparison.Ordinal);
            if (full)
                return start + 500;
        }
        Assert.Fail("the store never filled");
        return 0;
    }

    [Test]
    public void AFullStoreRefusesMultiKeyWritesWholeNeverHalfWay()
    {
        using var server = ServerProcess.StartPsyncd("--store-log-memory", "16mb", "--store-log-page-size", "1mb");
        using var c = server.Connect();
        c.Command("SADD", "full:src", "m1", "m2");
        const int Tiny = 5000;
        for (int i = 0; i < Tiny; i++)
            c.Send("SET", "tiny:" + i, "x");
        for (int i = 0; i < Tiny; i++)
            c.ReadReply();
        int filled = FillUntilFull(c);
        // SETs are refused with room to spare; writes not refused up front (a new time to live rewrites a
        // record) take the rest, down to the last few bytes.
        bool full = false;
        for (int i = 0; i < filled && !full; i++)
            full = c.Command("PEXPIRE", "fill:" + i, "100000000").StartsWith("-OOM ", StringComparison.Ordinal);
        full = false;
        for (int i = 0; i < Tiny && !full; i++)
            full = c.Command("PEXPIRE", "tiny:" + i, "100000000").StartsWith("-OOM ", StringComparison.Ordinal);
        Assert.That(full, Is.True, "the store filled up");

        // SMOVE is not refused up front (it frees as much as it takes), but its new destination is a record.
        Assert.That(c.Command("SMOVE", "full:src", "full:dst", "m1"), Does.StartWith("-OOM "));
        Assert.That(c.Command("SISMEMBER", "full:src", "m1"), Is.EqualTo(":1\r\n"), "the member stays where it was");

        // Room for a few of the MSETs queued below: each passes EXEC's checks, then they fill the store.
        for (int i = 0; i < 1500; i++)
            c.Send("DEL", "fill:" + i);
        for (int i = 0; i < 1500; i++)
            c.ReadReply();
        const int Commands = 40, Pairs = 20;
        var big = new string('w', 2000);
        c.Command("MULTI");
        for (int m = 0; m < Commands; m++)
        {
            var args = new List<string> { "MSET" };
            for (int p = 0; p < Pairs; p++)
                args.AddRange(["full:m" + m + ":" + p, big]);
            Assert.That(c.Command(args.ToArray()), Is.EqualTo("+QUEUED\r\n"));
        }
        var exec = (object?[])c.Call("EXEC")!;
        int refused = 0;
        for (int m = 0; m < Commands; m++)
        {
            bool ok = exec[m] is "OK";
            if (!ok)
            {
                Assert.That(exec[m], Is.InstanceOf<RespError>().And.Property("Message").StartsWith("OOM "), "MSET " + m);
                refused++;
            }
            int present = 0;
            for (int p = 0; p < Pairs; p++)
                present += (long)c.Call("EXISTS", "full:m" + m + ":" + p)! == 1 ? 1 : 0;
            Assert.That(present, Is.EqualTo(ok ? Pairs : 0), "MSET " + m + " applied whole or not at all (" + (ok ? "OK" : "OOM") + ")");
        }
        Assert.That(refused, Is.GreaterThan(0), "the transaction wrote more than the room made (" + filled + " keys filled the store)");
        Assert.That(server.Output, Does.Not.Contain("Unexpected exception"));
    }
}
