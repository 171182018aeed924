using System.Threading.Channels;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Replication;

/// <summary>
/// A sub-replica full-syncing from a replica (the middle of a chain) while its master's stream flows:
/// the middle node forwards that stream verbatim, so the payload it serves must start the sub-replica in
/// the database that stream is in, at an offset that never splits what it has received.
/// </summary>
[Category("Replication")]
public class ChainedReplicationTests
{
    /// <summary>
    /// A ← B ← C, where B is psyncd and A, C are given: the top's stream sits in db 2 when C attaches, and
    /// the next write (no SELECT before it: the stream is still in db 2) must land in db 2 on C.
    /// </summary>
    private static void SubReplicaStartsInTheStreamsDatabase(Func<ServerProcess> startTop, Func<int, ServerProcess> startBottom, params string[] middleArgs)
        => SubReplicaStartsInTheStreamsDatabase(startTop, top => ServerProcess.StartPsyncd(["--slaveof", "127.0.0.1", top.ToString(), .. middleArgs]), startBottom);

    private static void SubReplicaStartsInTheStreamsDatabase(Func<ServerProcess> startTop, Func<int, ServerProcess> startMiddle, Func<int, ServerProcess> startBottom)
    {
        using var top = startTop();
        using var middle = startMiddle(top.Port);
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

        string expected = DatasetText.Describe(top.Port);
        Assert.That(expected, Is.EqualTo("2 string x = 1\n2 string y = 1\n"));
        Assert.That(DatasetText.Describe(middle.Port), Is.EqualTo(expected));
        Assert.That(DatasetText.Describe(bottom.Port), Is.EqualTo(expected));
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

    /// <summary>The reference: redis-server in the middle of psyncd nodes.</summary>
    [Test]
    public void RedisMiddleSubReplicaStartsInTheStreamsDatabase()
        => SubReplicaStartsInTheStreamsDatabase(
            () => ServerProcess.StartPsyncd(),
            top => ServerProcess.StartRedis("--replicaof", "127.0.0.1", top.ToString()),
            port => ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", port.ToString()));

    [Test]
    public void DisklessSubReplicaStartsInTheStreamsDatabase()
        => SubReplicaStartsInTheStreamsDatabase(
            () => ServerProcess.StartPsyncd(),
            port => ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", port.ToString()),
            "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0");

    /// <summary>
    /// The middle node has received part of its master's stream that it cannot apply yet (a MULTI without
    /// its EXEC, then half of the EXEC) when the bottom attaches: the payload and offset it serves hold
    /// exactly what it applied (Redis advances a replica's offset at EXEC only), and the transaction (with a
    /// SELECT inside it) reaches the bottom whole, in the right databases.
    /// </summary>
    [TestCase("psyncd")]
    [TestCase("redis-server")]
    public void SnapshotOfTheMiddleNeverSplitsAReceivedTransaction(string bottomKind)
    {
        // A master played by the test: a full sync with an empty payload at offset 0, then exactly the stream
        // bytes the test queues (a transaction split across reads), while the replica's ACKs are read and dropped.
        var stream = Channel.CreateUnbounded<byte[]>();
        using var fake = new FakeMaster(async (session, _) =>
        {
            await session.HandshakeAsync();
            await session.FullResyncAsync(new string('a', 40), 0, RdbBuilder.Start().End());
            var acks = session.WaitForCloseAsync();
            await foreach (var bytes in stream.Reader.ReadAllAsync())
                await session.SendAsync(bytes);
            await acks;
        });
        using var middle = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", fake.Port.ToString());
        byte[] applied = Resp(["SELECT", "2"], ["SET", "a", "1"]);
        byte[] pending = [.. Resp(["MULTI"], ["SET", "b", "1"], ["SELECT", "3"], ["SET", "c", "1"]), .. "*1\r\n$4\r\nEX"u8];
        stream.Writer.TryWrite([.. applied, .. pending]);
        Eventually.True(() => ReplicationWatch.Offset(middle.Port) == applied.Length, TimeSpan.FromSeconds(20), "the middle applied what precedes the transaction");

        using var bottom = bottomKind == "psyncd"
            ? ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", middle.Port.ToString())
            : ServerProcess.StartRedis("--replicaof", "127.0.0.1", middle.Port.ToString(), "--repl-diskless-load", "disabled");
        ReplicationWatch.WaitForSync(middle.Port, bottom.Port);
        Assert.That(ReplicationWatch.Offset(bottom.Port), Is.EqualTo(applied.Length), "the payload's offset excludes the open transaction");

        byte[] rest = [.. "EC\r\n"u8, .. Resp(["SET", "d", "1"])];
        stream.Writer.TryWrite(rest);
        stream.Writer.Complete();
        long total = applied.Length + pending.Length + rest.Length;
        Eventually.True(() => ReplicationWatch.Offset(middle.Port) == total, TimeSpan.FromSeconds(20), "the middle applied the whole stream");
        ReplicationWatch.WaitForSync(middle.Port, bottom.Port);
        string expected = "2 string a = 1\n2 string b = 1\n3 string c = 1\n3 string d = 1\n";
        Assert.That(DatasetText.Describe(middle.Port), Is.EqualTo(expected));
        Assert.That(DatasetText.Describe(bottom.Port), Is.EqualTo(expected));
        Assert.That(fake.ScriptError, Is.Null, "the fake master's script");
        Assert.That(fake.Connections, Is.EqualTo(1), "the middle never reconnected");
    }

    private static byte[] Resp(params string[][] commands)
    {
        var bytes = new List<byte>();
        foreach (var command in commands)
            bytes.AddRange(RawClient.Encode(command.Select(a => System.Text.Encoding.ASCII.GetBytes(a)).ToArray()));
        return bytes.ToArray();
    }

    /// <summary>
    /// A writable replica's own writes stay local (Redis 4.0+): its stream, backlog and offset remain its
    /// master's, byte for byte, so its sub-replica never sees them and offsets stay equal down the chain.
    /// </summary>
    [Test]
    public void WritableMiddleKeepsItsOwnWritesOutOfTheStream()
    {
        using var top = ServerProcess.StartPsyncd();
        using var middle = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", top.Port.ToString(), "--slave-read-only", "no");
        using var bottom = ServerProcess.StartPsyncd("--slaveof", "127.0.0.1", middle.Port.ToString());
        ReplicationWatch.WaitForSync(top.Port, middle.Port);
        ReplicationWatch.WaitForSync(middle.Port, bottom.Port);
        using var b = middle.Connect();
        Assert.That(b.Command("SET", "local", "1"), Is.EqualTo("+OK\r\n"));
        Assert.That(b.Command("MULTI"), Is.EqualTo("+OK\r\n"));
        b.Command("INCR", "local");
        b.Command("RPUSH", "local-list", "a");
        Assert.That(b.Command("EXEC"), Is.EqualTo("*2\r\n:2\r\n:1\r\n"));
        using var a = top.Connect();
        a.Command("SET", "k", "v");
        ReplicationWatch.WaitForSync(top.Port, middle.Port);
        ReplicationWatch.WaitForSync(middle.Port, bottom.Port);
        Assert.That(ReplicationWatch.Offset(middle.Port), Is.EqualTo(ReplicationWatch.Offset(top.Port)));
        Assert.That(DatasetText.Describe(bottom.Port), Is.EqualTo(DatasetText.Describe(top.Port)));
    }

    /// <summary>
    /// Seeded writes over every family, four databases and MULTI/EXEC (mixing databases), on the top of a
    /// chain, while the bottom full-syncs from the middle again and again; then everything converges and
    /// the three datasets are compared key by key.
    /// </summary>
    private static void ChainConvergesWhileTheBottomAttaches(Func<ServerProcess> startTop, Func<ServerProcess> startBottom, int seed, params string[] middleArgs)
    {
        using var top = startTop();
        using var middle = ServerProcess.StartPsyncd(["--slaveof", "127.0.0.1", top.Port.ToString(), .. middleArgs]);
        using var bottom = startBottom();
        ReplicationWatch.WaitForSync(top.Port, middle.Port);
        var writer = new ChainWriter(top.Port, seed);
        using (var b = bottom.Connect())
        {
            writer.Run(3000);
            for (int round = 0; round < 4; round++)
            {
                Assert.That(b.Command("REPLICAOF", "127.0.0.1", middle.Port.ToString()), Is.EqualTo("+OK\r\n"));
                // Writes flow while the bottom asks, waits for, receives and loads its payload.
                var attached = writer.RunUntil(() => ReplicationWatch.Info(bottom.Port).GetValueOrDefault("master_link_status") == "up", TimeSpan.FromSeconds(60));
                Assert.That(attached, Is.True, "the bottom attached (round " + round + ", seed " + seed + ")");
                writer.Run(500);
                if (round < 3)
                    Assert.That(b.Command("REPLICAOF", "NO", "ONE"), Is.EqualTo("+OK\r\n"));
            }
        }
        ReplicationWatch.WaitForSync(top.Port, middle.Port);
        ReplicationWatch.WaitForSync(middle.Port, bottom.Port);
        string expected = DatasetText.Describe(top.Port);
        Assert.That(DatasetText.Describe(middle.Port), Is.EqualTo(expected), "middle, seed " + seed);
        Assert.That(DatasetText.Describe(bottom.Port), Is.EqualTo(expected), "bottom, seed " + seed);
        Assert.That(middle.Output + bottom.Output, Does.Not.Contain("== CRITICAL =="));
    }

    [Test]
    public void PsyncdChainConvergesWhileTheBottomAttaches()
        => ChainConvergesWhileTheBottomAttaches(
            () => ServerProcess.StartPsyncd(),
            () => ServerProcess.StartPsyncd(),
            seed: 8101);

    [Test]
    public void PsyncdChainWithDisklessMiddleConvergesWhileTheBottomAttaches()
        => ChainConvergesWhileTheBottomAttaches(
            () => ServerProcess.StartPsyncd(),
            () => ServerProcess.StartPsyncd(),
            seed: 8102,
            "--repl-diskless-sync", "yes", "--repl-diskless-sync-delay", "0");

    [Test]
    public void RedisPsyncdRedisChainConvergesWhileTheBottomAttaches()
        => ChainConvergesWhileTheBottomAttaches(
            () => ServerProcess.StartRedis(),
            () => ServerProcess.StartRedis("--repl-diskless-load", "disabled"),
            seed: 8103);

    /// <summary>A seeded writer for the top of a chain: every family, databases 0-3, MULTI/EXEC across databases.</summary>
    private sealed class ChainWriter
    {
        private readonly RawClient _client;
        private readonly Random _random;

        public ChainWriter(int port, int seed)
        {
            _client = new RawClient(port);
            _random = new Random(seed);
        }

        public void Run(int operations)
        {
            for (int i = 0; i < operations; i++)
                Step();
        }

        /// <summary>Writes until <paramref name="condition"/> holds (checked every 50 operations); false on timeout.</summary>
        public bool RunUntil(Func<bool> condition, TimeSpan timeout)
        {
            var watch = System.Diagnostics.Stopwatch.StartNew();
            while (watch.Elapsed < timeout)
            {
                if (condition())
                    return true;
                Run(50);
            }
            return false;
        }

        private void Step()
        {
            int roll = _random.Next(100);
            if (roll < 8)
            {
                _client.Command("SELECT", _random.Next(4).ToString());
            }
            else if (roll < 16)
            {
                // A transaction, possibly switching databases inside it.
                _client.Command("MULTI");
                int count = 2 + _random.Next(4);
                for (int i = 0; i < count; i++)
                {
                    if (_random.Next(4) == 0)
                        _client.Command("SELECT", _random.Next(4).ToString());
                    else
                        _client.Command(Write());
                }
                _client.Command("EXEC");
            }
            else
            {
                _client.Command(Write());
            }
        }

        /// <summary>One write of a random family on a small key space (replies, errors included, are not checked).</summary>
        private string[] Write()
        {
            string n = _random.Next(6).ToString();
            string v = _random.Next(1000).ToString();
            return _random.Next(22) switch
            {
                0 => ["SET", "s" + n, v],
                1 => ["INCRBY", "i" + n, v],
                2 => ["APPEND", "s" + n, v],
                3 => ["RPUSH", "l" + n, v, "x" + v],
                4 => ["LPUSH", "l" + n, v],
                5 => ["LPOP", "l" + n],
                6 => ["LSET", "l" + n, _random.Next(-3, 3).ToString(), v],
                7 => ["LINSERT", "l" + n, "BEFORE", v, "ins"],
                8 => ["LREM", "l" + n, "1", "x" + v],
                9 => ["LTRIM", "l" + n, "0", _random.Next(2, 12).ToString()],
                10 => ["SADD", "t" + n, v, "m" + _random.Next(20)],
                11 => ["SREM", "t" + n, "m" + _random.Next(20)],
                12 => ["SPOP", "t" + n],
                13 => ["SMOVE", "t" + n, "t" + _random.Next(6), "m" + _random.Next(20)],
                14 => ["ZADD", "z" + n, _random.Next(100).ToString(), "m" + _random.Next(20)],
                15 => ["ZINCRBY", "z" + n, "1.5", "m" + _random.Next(20)],
                16 => ["ZREM", "z" + n, "m" + _random.Next(20)],
                17 => ["HSET", "h" + n, "f" + _random.Next(10), v],
                18 => ["HINCRBY", "h" + n, "c" + _random.Next(3), v],
                19 => ["HDEL", "h" + n, "f" + _random.Next(10)],
                20 => ["EXPIRE", "s" + n, "100000"],
                _ => ["DEL", new[] { "s", "l", "t", "z", "h", "i" }[_random.Next(6)] + n],
            };
        }
    }
}
