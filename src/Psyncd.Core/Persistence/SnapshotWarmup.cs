using System.Text;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Rdb;
using Psyncd.Storage;
using Psyncd.Storage.Types;

namespace Psyncd.Persistence;

/// <summary>
/// At startup, on a thread of its own: a BGSAVE of a small scratch keyspace, and the load of what it wrote, so
/// that the first real BGSAVE (or full sync) does not compile its code inside the command loop.
/// </summary>
/// <remarks>
/// The snapshot's walk and the serialization of every key run inside the loop; the first BGSAVE of a process
/// compiled them there (RdbWriter for each type, LZF, FASTER's scan iterator over the store's key type, the
/// preservation of a key written before it was walked), a stall of its own on top of the walk's steps. The JIT's
/// code is shared by every instance, so the same code paths over a scratch store with one key of each type and
/// encoding are enough. The scratch store is small (8 MB of log at most) and disposed at once.
/// </remarks>
public static class SnapshotWarmup
{
    /// <summary>Starts the warm-up on a background thread of low priority; never throws.</summary>
    public static void Start(bool compress)
    {
        var thread = new Thread(() => Run(compress)) { IsBackground = true, Priority = ThreadPriority.BelowNormal, Name = "psyncd snapshot warm-up" };
        thread.Start();
    }

    /// <summary>Runs the warm-up on the calling thread; returns the number of keys the load read back (tests: <paramref name="rethrow"/>, and one round).</summary>
    public static long Run(bool compress, bool rethrow = false, int rounds = Rounds)
    {
        try
        {
            return RunOnce(compress, rounds);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !rethrow)
        {
            // Only a warm-up: the real snapshot compiles what this one could not.
            return -1;
        }
    }

    /// <summary>
    /// Snapshots per round, with a pause before each round but the first. The runtime first runs a method
    /// unoptimized (tier 0) and compiles it optimized once it has been called 30 times after 100 ms without new
    /// compilations. One snapshot compiled the code, but the first real BGSAVE then ran it unoptimized (its first
    /// steps of 2,000 records took 2-5 ms, later ones 0.5-2 ms), and a loop that runs long in unoptimized code is
    /// compiled again on the thread running it (on-stack replacement), inside a step. The first round compiles
    /// (two snapshots: the second preserves a key written during its walk); the second, a second after startup's
    /// own compilations have calmed down, calls every method of the walk more than 30 times, so that their
    /// optimized versions are compiled on the runtime's background thread before any real BGSAVE needs them.
    /// </summary>
    private static readonly int[] RoundSnapshots = { 2, 32 };

    /// <remarks>
    /// One round for now: the second one's 32 snapshots left some 20 MB of garbage on the large object heap in the
    /// seconds after startup, which used_memory counts until a full collection, so a maxmemory set then evicted
    /// the dataset for it (EvictionReplicationTests). It comes back once the snapshot's buffers are pooled.
    /// </remarks>
    private const int Rounds = 1;

    private static readonly TimeSpan PauseBetweenRounds = TimeSpan.FromSeconds(1);

    private static long RunOnce(bool compress, int rounds)
    {
        var settings = new StoreSettings(8L << 20, 256L << 10, 1L << 16);
        byte[] payload;
        using (var keyspace = new Keyspace(settings, 2))
        {
            var loop = new CommandLoop();
            loop.AddEnterHook(keyspace.EnterLoop);
            loop.AddExitHook(keyspace.ExitLoop);
            loop.Run(() => Fill(keyspace));
            var header = new RdbHeader(ServerIdentity.RedisVersion, 0, 0);
            using var memory = new MemoryStream();
            for (int round = 0; round < rounds; round++)
            {
                if (round > 0)
                    Thread.Sleep(PauseBetweenRounds);
                for (int i = 0; i < RoundSnapshots[round]; i++)
                {
                    memory.SetLength(0);
                    RdbSnapshot? snapshot = null;
                    int pass = i;
                    loop.Run(() =>
                    {
                        snapshot = RdbSnapshot.Begin(loop, keyspace, header.WithReplication(new ReplicationPoint(new string('0', 40), 1, 0)), compress);
                        // Odd passes take the path of a key written before it was walked (preserved first).
                        if (pass % 2 == 1)
                            keyspace.SetString(0, "s:short"u8, pass % 4 == 1 ? "changed"u8 : "v"u8);
                    });
                    snapshot!.StreamTo(memory, checksum: true);
                }
            }
            payload = memory.ToArray();
        }
        using var target = new Keyspace(settings, 2);
        var reload = new CommandLoop();
        reload.AddEnterHook(target.EnterLoop);
        reload.AddExitHook(target.ExitLoop);
        long keys = 0;
        reload.Run(() =>
        {
            new RdbReader(new MemoryStream(payload)).Load(target, 0, dropExpired: false);
            keys = target.KeyCount(0) + target.KeyCount(1);
        });
        return keys;
    }

    /// <summary>One key of each type and encoding RdbWriter distinguishes, some with an expiry, in two databases.</summary>
    private static void Fill(Keyspace keyspace)
    {
        static byte[] B(string s) => Encoding.ASCII.GetBytes(s);
        keyspace.SetString(0, "s:short"u8, "v"u8);
        keyspace.SetString(0, "s:int"u8, "12345"u8);
        keyspace.SetString(0, "s:long"u8, B(new string('x', 100)), expireAt: 4_000_000_000_000);
        keyspace.SetString(1, "s:random"u8, B(Convert.ToHexString(Guid.NewGuid().ToByteArray()) + Convert.ToHexString(Guid.NewGuid().ToByteArray())));
        foreach (int size in new[] { 3, 600 })
        {
            var hash = new HashObject();
            var set = new SetObject();
            var numbers = new SetObject();
            var zset = new SortedSetObject();
            var list = new ListObject();
            for (int i = 0; i < size; i++)
            {
                var item = B("member:" + i);
                hash.Set(item, B("value:" + i));
                set.Add(item);
                numbers.Add(B(i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
                zset.Add(item, i + 0.5);
                list.PushRight(item);
            }
            keyspace.SetObject(0, B("h:" + size), hash);
            keyspace.SetObject(0, B("set:" + size), set);
            keyspace.SetObject(0, B("ints:" + size), numbers);
            keyspace.SetObject(1, B("z:" + size), zset);
            keyspace.SetObject(1, B("l:" + size), list);
        }
    }
}
