using System.Diagnostics;
using System.Text;
using Psyncd.Tests.Support;
using StackExchange.Redis;

namespace Psyncd.Tests.Interop.Transactions;

/// <summary>MULTI, EXEC, DISCARD, WATCH, UNWATCH over TCP: exact replies, WATCH races, StackExchange.Redis transactions.</summary>
public class TransactionTests
{
    private ServerProcess _server = null!;

    [OneTimeSetUp]
    public void Start() => _server = ServerProcess.StartPsyncd();

    [OneTimeTearDown]
    public void Stop() => _server.Dispose();

    [Test]
    public void ExecRunsQueuedCommandsAndRepliesWithAllTheirReplies()
    {
        using var c = _server.Connect();
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("SET", "tx:run", "1"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("GET", "tx:run"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("PING"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*3\r\n+OK\r\n$1\r\n1\r\n+PONG\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*0\r\n"), "an empty transaction");
    }

    [Test]
    public void MisuseGetsRedisErrors()
    {
        using var c = _server.Connect();
        Assert.That(c.Command("EXEC"), Is.EqualTo("-ERR EXEC without MULTI\r\n"));
        Assert.That(c.Command("DISCARD"), Is.EqualTo("-ERR DISCARD without MULTI\r\n"));
        Assert.That(c.Command("WATCH"), Is.EqualTo("-ERR wrong number of arguments for 'watch' command\r\n"));
        Assert.That(c.Command("UNWATCH", "x"), Is.EqualTo("-ERR wrong number of arguments for 'unwatch' command\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("-ERR MULTI calls can not be nested\r\n"));
        Assert.That(c.Command("WATCH", "tx:misuse"), Is.EqualTo("-ERR WATCH inside MULTI is not allowed\r\n"));
        Assert.That(c.Command("SET", "tx:misuse", "1"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*1\r\n+OK\r\n"), "nested MULTI and WATCH inside MULTI do not abort the transaction");
    }

    [Test]
    public void QueuingErrorsAbortExecWithExecAbort()
    {
        using var c = _server.Connect();
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("SET", "tx:abort", "1"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("GET"), Is.EqualTo("-ERR wrong number of arguments for 'get' command\r\n"));
        Assert.That(c.Command("SET", "tx:abort", "2"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("-EXECABORT Transaction discarded because of previous errors.\r\n"));
        Assert.That(c.Command("GET", "tx:abort"), Is.EqualTo("$-1\r\n"), "nothing ran");
        Assert.That(c.Command("EXEC"), Is.EqualTo("-ERR EXEC without MULTI\r\n"), "the transaction is over");

        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("NOSUCHCOMMAND"), Does.StartWith("-ERR unknown command 'NOSUCHCOMMAND'"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("-EXECABORT Transaction discarded because of previous errors.\r\n"));
    }

    [Test]
    public void RuntimeErrorsDoNotAbortTheTransaction()
    {
        using var c = _server.Connect();
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("SET", "tx:runtime", "1"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("SET", "tx:runtime", "2", "EX", "0"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("SELECT", "100000"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("GET", "tx:runtime"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo(
            "*4\r\n+OK\r\n-ERR invalid expire time in 'set' command\r\n-ERR DB index is out of range\r\n$1\r\n1\r\n"));
    }

    [Test]
    public void DiscardDropsTheQueueAndTheWatches()
    {
        using var c = _server.Connect();
        using var other = _server.Connect();
        Assert.That(c.Command("WATCH", "tx:discard"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("SET", "tx:discard", "mine"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("DISCARD"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("GET", "tx:discard"), Is.EqualTo("$-1\r\n"));
        Assert.That(other.Command("SET", "tx:discard", "theirs"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("GET", "tx:discard"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*1\r\n$6\r\ntheirs\r\n"), "DISCARD unwatched the key");
    }

    [Test]
    public void AWatchedKeyTouchedByAnotherConnectionFailsExec()
    {
        using var c = _server.Connect();
        using var other = _server.Connect();
        Assert.That(c.Command("SET", "tx:w1", "1"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("WATCH", "tx:w0", "tx:w1", "tx:w2"), Is.EqualTo("+OK\r\n"));
        Assert.That(other.Command("SET", "tx:w1", "2"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("SET", "tx:w1", "3"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*-1\r\n"));
        Assert.That(c.Command("GET", "tx:w1"), Is.EqualTo("$1\r\n2\r\n"));
        // After a failed EXEC nothing is watched any more.
        Assert.That(other.Command("SET", "tx:w1", "4"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*0\r\n"));
    }

    [Test]
    public void DeletingAndCreatingWatchedKeysTouchThem()
    {
        using var c = _server.Connect();
        using var other = _server.Connect();
        Assert.That(c.Command("SET", "tx:del", "1"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("WATCH", "tx:del"), Is.EqualTo("+OK\r\n"));
        Assert.That(other.Command("DEL", "tx:del"), Is.EqualTo(":1\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*-1\r\n"), "deleted");

        Assert.That(c.Command("WATCH", "tx:create"), Is.EqualTo("+OK\r\n"));
        Assert.That(other.Command("DEL", "tx:create"), Is.EqualTo(":0\r\n"), "deleting a missing key changes nothing");
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*0\r\n"));

        Assert.That(c.Command("WATCH", "tx:create"), Is.EqualTo("+OK\r\n"));
        Assert.That(other.Command("SET", "tx:create", "x"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*-1\r\n"), "created");
    }

    [Test]
    public void WatchIsPerDatabase()
    {
        using var c = _server.Connect();
        using var other = _server.Connect();
        Assert.That(c.Command("SELECT", "3"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("WATCH", "tx:db"), Is.EqualTo("+OK\r\n"));
        Assert.That(other.Command("SET", "tx:db", "in db 0"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*0\r\n"));

        Assert.That(c.Command("WATCH", "tx:db"), Is.EqualTo("+OK\r\n"));
        Assert.That(other.Command("SELECT", "3"), Is.EqualTo("+OK\r\n"));
        Assert.That(other.Command("SET", "tx:db", "in db 3"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*-1\r\n"));
    }

    [Test]
    public void UnwatchForgetsTheWatchesAndATouch()
    {
        using var c = _server.Connect();
        using var other = _server.Connect();
        Assert.That(c.Command("WATCH", "tx:unwatch"), Is.EqualTo("+OK\r\n"));
        Assert.That(other.Command("SET", "tx:unwatch", "1"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("UNWATCH"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("UNWATCH"), Is.EqualTo("+QUEUED\r\n"), "UNWATCH is queued inside MULTI, as in Redis");
        Assert.That(c.Command("EXEC"), Is.EqualTo("*1\r\n+OK\r\n"));
    }

    [Test]
    public void ExecOwnWritesToWatchedKeysBeforeMultiFailIt()
    {
        using var c = _server.Connect();
        Assert.That(c.Command("WATCH", "tx:own"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("SET", "tx:own", "1"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("GET", "tx:own"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*-1\r\n"));
    }

    [Test]
    public void FlushTouchesOnlyWatchedKeysThatExisted()
    {
        // Its own database, so that the flush does not disturb the fixture's other tests.
        using var c = _server.Connect();
        using var other = _server.Connect();
        Assert.That(c.Command("SELECT", "7"), Is.EqualTo("+OK\r\n"));
        Assert.That(other.Command("SELECT", "7"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("WATCH", "tx:flush-missing"), Is.EqualTo("+OK\r\n"));
        Assert.That(other.Command("SET", "tx:flush-unwatched", "1"), Is.EqualTo("+OK\r\n"));
        Assert.That(other.Command("FLUSHDB"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*0\r\n"), "the watched key did not exist");

        Assert.That(other.Command("SET", "tx:flush-present", "1"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("WATCH", "tx:flush-present", "tx:flush-missing"), Is.EqualTo("+OK\r\n"));
        Assert.That(other.Command("FLUSHDB"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*-1\r\n"), "the watched key was flushed");
    }

    [Test]
    public void AKeyThatExpiresAfterWatchFailsExec()
    {
        using var c = _server.Connect();
        SetWithTtlAndWatch(c, "tx:ttl", 100);
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("PING"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*-1\r\n"));

        // Also when a lookup deleted it meanwhile.
        SetWithTtlAndWatch(c, "tx:ttl", 100);
        Assert.That(c.Command("GET", "tx:ttl"), Is.EqualTo("$-1\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*-1\r\n"));
    }

    /// <summary>
    /// SET with a TTL and WATCH in one write, so that WATCH runs right after SET whatever the machine's load
    /// (sent one by one, a loaded machine could let the key expire before WATCH: another case), then waits
    /// until the key's TTL has run out on the server's clock (TIME), without a lookup that would delete it.
    /// </summary>
    private static void SetWithTtlAndWatch(RawClient c, string key, int ttlMs)
    {
        c.SendRaw(RawClient.Encode(new[] { "SET", key, "1", "PX", ttlMs.ToString() }.Select(Encoding.ASCII.GetBytes).ToArray())
            .Concat(RawClient.Encode(new[] { "WATCH", key }.Select(Encoding.ASCII.GetBytes).ToArray())).ToArray());
        Assert.That(c.ReadReply(), Is.EqualTo("+OK\r\n"));
        Assert.That(c.ReadReply(), Is.EqualTo("+OK\r\n"));
        // The SET ran before this reading of the clock: the key is expired once the clock is past it by the TTL.
        long setNoLaterThan = ServerTimeMs(c);
        Eventually.True(() => ServerTimeMs(c) > setNoLaterThan + ttlMs, TimeSpan.FromSeconds(10), key + "'s TTL ran out on the server's clock");
    }

    private static long ServerTimeMs(RawClient c)
    {
        var time = (object?[])c.Call("TIME")!;
        return long.Parse((string)time[0]!) * 1000 + long.Parse((string)time[1]!) / 1000;
    }

    [Test]
    public void AKeyAlreadyExpiredAtWatchTimeIsNotAChange()
    {
        using var c = _server.Connect();
        Assert.That(c.Command("SET", "tx:gone", "1", "PX", "50"), Is.EqualTo("+OK\r\n"));
        WaitMilliseconds(150);
        Assert.That(c.Command("WATCH", "tx:gone"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("GET", "tx:gone"), Is.EqualTo("$-1\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("PING"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*1\r\n+PONG\r\n"));
    }

    [Test]
    public void ClientsStillWatchingAfterOthersDisconnectAreUnaffected()
    {
        using var c = _server.Connect();
        using (var gone = _server.Connect())
        {
            Assert.That(gone.Command("WATCH", "tx:disconnect"), Is.EqualTo("+OK\r\n"));
            Assert.That(gone.Command("MULTI"), Is.EqualTo("+OK\r\n"));
            Assert.That(gone.Command("SET", "tx:disconnect", "queued"), Is.EqualTo("+QUEUED\r\n"));
        }
        Assert.That(c.Command("WATCH", "tx:disconnect"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("SET", "tx:disconnect", "mine"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*1\r\n+OK\r\n"));
        Assert.That(c.Command("GET", "tx:disconnect"), Is.EqualTo("$4\r\nmine\r\n"), "the closed client's queue never ran");
    }

    [Test]
    public void OnlyOneOfTwoRacingWatchersWins()
    {
        using var a = _server.Connect();
        using var b = _server.Connect();
        Assert.That(a.Command("SET", "tx:race", "10"), Is.EqualTo("+OK\r\n"));
        foreach (var c in new[] { a, b })
        {
            Assert.That(c.Command("WATCH", "tx:race"), Is.EqualTo("+OK\r\n"));
            Assert.That(c.Command("GET", "tx:race"), Is.EqualTo("$2\r\n10\r\n"));
            Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        }
        Assert.That(a.Command("SET", "tx:race", "a"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(b.Command("SET", "tx:race", "b"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(b.Command("EXEC"), Is.EqualTo("*1\r\n+OK\r\n"));
        Assert.That(a.Command("EXEC"), Is.EqualTo("*-1\r\n"));
        Assert.That(a.Command("GET", "tx:race"), Is.EqualTo("$1\r\nb\r\n"));
    }

    [Test]
    public void CommandsOfSubscribedModeCanBeQueued()
    {
        using var c = _server.Connect();
        Assert.That(c.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        Assert.That(c.Command("SUBSCRIBE", "tx:chan"), Is.EqualTo("+QUEUED\r\n"));
        Assert.That(c.Command("EXEC"), Is.EqualTo("*1\r\n*3\r\n$9\r\nsubscribe\r\n$7\r\ntx:chan\r\n:1\r\n"));
        Assert.That(c.Command("PING"), Is.EqualTo("*2\r\n$4\r\npong\r\n$0\r\n\r\n"), "subscribed mode after EXEC");
    }

    [Test]
    public void StackExchangeRedisConditionalTransactions()
    {
        using var mux = StackExchangeClient.Connect(_server.Port);
        var db = mux.GetDatabase();
        db.StringSet("tx:se", "v1");

        var ok = db.CreateTransaction();
        ok.AddCondition(Condition.StringEqual("tx:se", "v1"));
        ok.AddCondition(Condition.KeyNotExists("tx:se-other"));
        var set = ok.StringSetAsync("tx:se", "v2");
        var get = ok.StringGetAsync("tx:se");
        Assert.That(ok.Execute(), Is.True);
        Assert.That(set.Result, Is.True);
        Assert.That((string?)get.Result, Is.EqualTo("v2"));

        var refused = db.CreateTransaction();
        refused.AddCondition(Condition.StringEqual("tx:se", "v1"));
        _ = refused.StringSetAsync("tx:se", "v3");
        Assert.That(refused.Execute(), Is.False);
        Assert.That((string?)db.StringGet("tx:se"), Is.EqualTo("v2"));
    }

    [Test]
    public async Task StackExchangeRedisOptimisticCountersAddUp()
    {
        // StackExchangeClient waits as RawClient does: on a loaded machine the default second is not what this test checks.
        using var mux = StackExchangeClient.Connect(_server.Port);
        using var mux2 = StackExchangeClient.Connect(_server.Port);
        const string key = "tx:counter";
        mux.GetDatabase().StringSet(key, "0");
        int failures = 0;
        int successes = 0;

        async Task Worker(ConnectionMultiplexer m)
        {
            var db = m.GetDatabase();
            for (int i = 0; i < 100; i++)
            {
                while (true)
                {
                    string current = (await db.StringGetAsync(key).ConfigureAwait(false))!;
                    var tran = db.CreateTransaction();
                    tran.AddCondition(Condition.StringEqual(key, current));
                    _ = tran.StringSetAsync(key, (long.Parse(current) + 1).ToString());
                    if (await tran.ExecuteAsync().ConfigureAwait(false))
                    {
                        Interlocked.Increment(ref successes);
                        break;
                    }
                    Interlocked.Increment(ref failures);
                }
            }
        }

        var all = Task.WhenAll(Worker(mux), Worker(mux2), Worker(mux), Worker(mux2));
        Assert.That(await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(60))), Is.SameAs(all), "workers finished");
        await all;
        Assert.That(successes, Is.EqualTo(400));
        Assert.That((string?)mux.GetDatabase().StringGet(key), Is.EqualTo("400"), "no lost update (" + failures + " retries)");
    }

    /// <summary>Lets wall-clock time pass (for time to live); polls rather than sleeping blindly.</summary>
    private static void WaitMilliseconds(int ms)
    {
        var watch = Stopwatch.StartNew();
        Eventually.True(() => watch.ElapsedMilliseconds >= ms, TimeSpan.FromSeconds(5), ms + " ms passed");
    }
}

/// <summary>Seeded random transaction scripts on two connections, replayed on psyncd and on redis-server: same replies.</summary>
[Category("Interop")]
public class TransactionDifferentialTests : DifferentialFixture
{
    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    [TestCase(4)]
    public void RandomTransactionScriptsMatchRedis(int seed)
    {
        var script = MakeScript(new Random(seed), 400);
        var expected = Run(_redis, script);
        var actual = Run(_psyncd, script);
        for (int i = 0; i < script.Count; i++)
        {
            var (who, args) = script[i];
            Assert.That(actual[i], Is.EqualTo(expected[i]),
                "step " + i + " (" + (who == 0 ? "A" : "B") + ": " + string.Join(' ', args) + ")");
        }
    }

    private static List<string> Run(ServerProcess server, List<(int Who, string[] Args)> script)
    {
        using var a = server.Connect();
        using var b = server.Connect();
        Assert.That(a.Command("FLUSHALL"), Is.EqualTo("+OK\r\n"));
        var replies = new List<string>(script.Count);
        foreach (var (who, args) in script)
            replies.Add((who == 0 ? a : b).Command(args));
        return replies;
    }

    private static List<(int, string[])> MakeScript(Random random, int steps)
    {
        string Key() => "k" + random.Next(4);
        string Value() => "v" + random.Next(100);
        var script = new List<(int, string[])>();
        for (int i = 0; i < steps; i++)
        {
            if (random.Next(4) == 0)
            {
                script.Add((1, random.Next(6) switch
                {
                    0 => new[] { "DEL", Key() },
                    1 => new[] { "GET", Key() },
                    2 => new[] { "SELECT", random.Next(2).ToString() },
                    _ => new[] { "SET", Key(), Value() },
                }));
                continue;
            }
            script.Add((0, random.Next(22) switch
            {
                0 or 1 or 2 => new[] { "MULTI" },
                3 or 4 or 5 => new[] { "EXEC" },
                6 => new[] { "DISCARD" },
                7 or 8 => new[] { "WATCH", Key() },
                9 => new[] { "WATCH", Key(), Key() },
                10 => new[] { "UNWATCH" },
                11 or 12 => new[] { "SET", Key(), Value() },
                13 or 14 => new[] { "GET", Key() },
                15 => new[] { "DEL", Key(), Key() },
                16 => new[] { "EXISTS", Key() },
                17 => new[] { "GET" },
                18 => new[] { "SET", Key(), Value(), "EX", "0" },
                19 => new[] { "SELECT", random.Next(2).ToString() },
                20 => new[] { "FLUSHDB" },
                _ => new[] { "PING" },
            }));
        }
        script.Add((0, new[] { "EXEC" }));
        return script;
    }
}

/// <summary>What a transaction and PUBLISH send to a replica (a real redis-server following psyncd).</summary>
[Category("Replication")]
public class TransactionPropagationTests
{
    private static readonly string[] s_ignored = { "\"PING\"", "\"REPLCONF\"", "\"SELECT\"", "\"SUBSCRIBE\"" };

    [Test]
    public void TransactionsAreWrappedInMultiExecAndPublishReachesReplicaSubscribers()
    {
        using var master = ServerProcess.StartPsyncd();
        using var replica = ServerProcess.StartRedis("--replicaof", "127.0.0.1", master.Port.ToString(), "--repl-diskless-load", "disabled");
        using var m = master.Connect();
        Assert.That(m.Command("SET", "txp:warm", "1"), Is.EqualTo("+OK\r\n"));
        ReplicationWatch.WaitForSync(master.Port, replica.Port);

        using var monitor = replica.Connect();
        Assert.That(monitor.Command("MONITOR"), Is.EqualTo("+OK\r\n"));
        using var subscriber = replica.Connect();
        Assert.That(subscriber.Command("SUBSCRIBE", "txp:chan"), Is.EqualTo("*3\r\n$9\r\nsubscribe\r\n$8\r\ntxp:chan\r\n:1\r\n"));

        // One write: propagated alone. Two writes: wrapped. Reads only: nothing.
        Assert.That(m.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        m.Command("SET", "txp:one", "1");
        m.Command("GET", "txp:one");
        Assert.That(m.Command("EXEC"), Is.EqualTo("*2\r\n+OK\r\n$1\r\n1\r\n"));
        Assert.That(m.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        m.Command("GET", "txp:one");
        Assert.That(m.Command("EXEC"), Is.EqualTo("*1\r\n$1\r\n1\r\n"));
        Assert.That(m.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        m.Command("SET", "txp:a", "1");
        m.Command("SET", "txp:b", "2");
        Assert.That(m.Command("EXEC"), Is.EqualTo("*2\r\n+OK\r\n+OK\r\n"));
        Assert.That(m.Command("PUBLISH", "txp:chan", "hello"), Is.EqualTo(":0\r\n"), "no subscriber on the master itself");

        Assert.That(subscriber.ReadReply(), Is.EqualTo("*3\r\n$7\r\nmessage\r\n$8\r\ntxp:chan\r\n$5\r\nhello\r\n"));
        var seen = new List<string>();
        while (seen.Count < 6)
        {
            var line = (string)monitor.ReadValue()!;
            int bracket = line.IndexOf("] ", StringComparison.Ordinal);
            var command = line[(bracket + 2)..];
            // Keepalives, the stream's SELECT and the subscriber's own SUBSCRIBE are not what is checked here.
            if (!s_ignored.Any(prefix => command.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)))
                seen.Add(command);
        }
        Assert.That(seen, Is.EqualTo(new[]
        {
            "\"SET\" \"txp:one\" \"1\"",
            "\"MULTI\"",
            "\"SET\" \"txp:a\" \"1\"",
            "\"SET\" \"txp:b\" \"2\"",
            "\"EXEC\"",
            "\"PUBLISH\" \"txp:chan\" \"hello\"",
        }));
    }
}
