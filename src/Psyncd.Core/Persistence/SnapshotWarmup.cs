using System.Reflection;
using System.Runtime.CompilerServices;
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
/// encoding are enough, once per process. Each scratch store takes 8.6 MB whatever its settings (FASTER allocates
/// two pages of 4 MB of overflow buckets with every store): the warm-up makes two (the walk's and the load's), both
/// at startup; the second round reuses the first.
/// </remarks>
public static class SnapshotWarmup
{
    private static int s_started;

    /// <summary>
    /// Starts the warm-up on a background thread of low priority, once per process (the JIT's code serves every
    /// server in it: the tests start hundreds); never throws. It first compiles <paramref name="prepare"/> (the
    /// commands' own methods around the snapshot, which its scratch snapshots do not call).
    /// </summary>
    public static void Start(bool compress, IReadOnlyList<MethodBase>? prepare = null)
    {
        if (Interlocked.Exchange(ref s_started, 1) != 0)
            return;
        var thread = new Thread(() =>
        {
            Prepare(prepare ?? []);
            Run(compress);
        })
        { IsBackground = true, Priority = ThreadPriority.BelowNormal, Name = "psyncd snapshot warm-up" };
        thread.Start();
    }

    /// <summary>Compiles each method now (its first tier), so that its first call inside the loop finds code.</summary>
    public static void Prepare(IReadOnlyList<MethodBase> methods)
    {
        foreach (var method in methods)
        {
            try
            {
                RuntimeHelpers.PrepareMethod(method.MethodHandle);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or InvalidOperationException)
            {
                // Only a warm-up: the first call compiles what this could not.
            }
        }
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
    /// Snapshots of the first round: they compile the walk (the second preserves a key written during its walk).
    /// </summary>
    /// <remarks>
    /// The runtime first runs a method unoptimized (tier 0); it counts its calls only once no method has been
    /// compiled for 100 ms, and after 30 counted calls compiles it again with instrumentation, then after 30 more
    /// optimized (both on its own background thread). One round at startup, while startup compiles, left the walk
    /// unoptimized: the first real BGSAVE recompiled some 80 of its methods while it ran (its first steps of 2,000
    /// records took 2-5 ms, later ones 0.5-2 ms), and a loop that runs long in unoptimized code is compiled again
    /// on the thread running it (on-stack replacement), inside a step.
    /// </remarks>
    private const int FirstRoundSnapshots = 2;

    /// <summary>
    /// The second round, a second after startup's compilations have calmed down: bursts of snapshots with pauses
    /// between them, so that every method of the walk is counted 30 times, recompiled, counted again and compiled
    /// optimized before any real BGSAVE needs it.
    /// </summary>
    private const int SecondRoundBursts = 4;

    private const int SnapshotsPerBurst = 32;

    private static readonly TimeSpan PauseBeforeSecondRound = TimeSpan.FromSeconds(1);

    private static readonly TimeSpan PauseBetweenBursts = TimeSpan.FromMilliseconds(150);

    /// <remarks>
    /// Two rounds: the second walks the first's scratch keyspace again and, with the snapshot's buffers pooled,
    /// allocates a few kilobytes a snapshot. It had been taken out (1d739e3) when it allocated some 13 MB a second
    /// after startup (the load's scratch store, 8.6 MB, then made after it, and 132 KB of buffers per snapshot),
    /// garbage that used_memory counted until a full collection, so that a maxmemory set just before evicted the
    /// dataset for it or refused writes (EvictionReplicationTests).
    /// </remarks>
    private const int Rounds = 2;

    private static long RunOnce(bool compress, int rounds)
    {
        var settings = new StoreSettings(8L << 20, 256L << 10, 1L << 16);
        using var keyspace = new Keyspace(settings, 2);
        var loop = new CommandLoop();
        loop.AddEnterHook(keyspace.EnterLoop);
        loop.AddExitHook(keyspace.ExitLoop);
        loop.Run(() => Fill(keyspace));
        var header = new RdbHeader(ServerIdentity.RedisVersion, 0, 0).WithReplication(new ReplicationPoint(new string('0', 40), 1, 0));
        using var memory = new MemoryStream();
        int pass = 0;
        for (int i = 0; i < FirstRoundSnapshots; i++)
            Snapshot(loop, keyspace, header, compress, memory, pass++);
        long keys = Load(settings, memory);
        if (rounds > 1)
        {
            Thread.Sleep(PauseBeforeSecondRound);
            for (int burst = 0; burst < SecondRoundBursts; burst++)
            {
                if (burst > 0)
                    Thread.Sleep(PauseBetweenBursts);
                for (int i = 0; i < SnapshotsPerBurst; i++)
                    Snapshot(loop, keyspace, header, compress, memory, pass++);
            }
        }
        return keys;
    }

    private static void Snapshot(CommandLoop loop, Keyspace keyspace, RdbHeader header, bool compress, MemoryStream memory, int pass)
    {
        memory.SetLength(0);
        RdbSnapshot? snapshot = null;
        loop.Run(() =>
        {
            snapshot = RdbSnapshot.Begin(loop, keyspace, header, compress);
            // Odd passes take the path of a key written before it was walked (preserved first).
            if (pass % 2 == 1)
                keyspace.SetString(0, "s:short"u8, pass % 4 == 1 ? "changed"u8 : "v"u8);
        });
        snapshot!.StreamTo(memory, checksum: true);
    }

    /// <summary>Loads the last snapshot into a new scratch keyspace (the replica's full-sync path), disposed at once.</summary>
    private static long Load(StoreSettings settings, MemoryStream memory)
    {
        using var target = new Keyspace(settings, 2);
        var loop = new CommandLoop();
        loop.AddEnterHook(target.EnterLoop);
        loop.AddExitHook(target.ExitLoop);
        long keys = 0;
        loop.Run(() =>
        {
            new RdbReader(new MemoryStream(memory.GetBuffer(), 0, (int)memory.Length, writable: false)).Load(target, 0, dropExpired: false);
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
