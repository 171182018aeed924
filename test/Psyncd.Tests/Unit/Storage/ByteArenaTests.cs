using System.Text;
using Psyncd.Storage.Types;

namespace Psyncd.Tests.Unit.Storage;

/// <summary>
/// The byte arena that holds set members without an object each, and a set built on it: every member
/// readable as it was added, whatever its length, across removals, the arena's rebuilds and its own slabs
/// for long members; and the arena gives memory back once most members are gone.
/// </summary>
public class ByteArenaTests
{
    private static byte[] Member(int i)
    {
        // Lengths from 0 to past the packed limit, so that members cross slab ends and some get a slab of their own.
        int length = i % 97 == 0 ? ByteArena.MaxPackedLength + 1 + i % 5 : i % 41;
        var bytes = new byte[length];
        for (int j = 0; j < length; j++)
            bytes[j] = (byte)(i * 31 + j);
        if (length >= 4)
            BitConverter.TryWriteBytes(bytes, i);
        return bytes;
    }

    [Test]
    public void EveryStringReadsBackAsAdded()
    {
        var arena = new ByteArena();
        var handles = new List<long>();
        for (int i = 0; i < 5000; i++)
            handles.Add(arena.Add(Member(i)));
        for (int i = 0; i < handles.Count; i++)
            Assert.That(arena.Get(handles[i]).ToArray(), Is.EqualTo(Member(i)), $"string {i}");
    }

    [Test]
    public void SetKeepsEveryMemberAcrossRemovalsAndRebuilds()
    {
        var set = new SetObject();
        var expected = new HashSet<string>();
        var rng = new Random(7);
        for (int round = 0; round < 6; round++)
        {
            for (int i = round * 3000; i < round * 3000 + 4000; i++)
            {
                var member = Member(i);
                Assert.That(set.Add(member), Is.EqualTo(expected.Add(Convert.ToBase64String(member))));
            }
            // Remove two thirds, by member and by position, so that holes outweigh live bytes and the arena rebuilds.
            for (int k = 0; k < set.Count * 2 / 3; k++)
            {
                if (k % 2 == 0)
                {
                    var removed = set.RemoveAt(set.RandomIndex()).ToArray();
                    Assert.That(expected.Remove(Convert.ToBase64String(removed)), Is.True);
                }
                else
                {
                    var member = set.MemberAt(rng.Next((int)set.Count)).ToArray();
                    Assert.That(set.Remove(member), Is.True);
                    expected.Remove(Convert.ToBase64String(member));
                }
            }
            Assert.That(set.Count, Is.EqualTo(expected.Count));
            var seen = new HashSet<string>();
            foreach (var member in set.Members)
            {
                Assert.That(set.Contains(member), Is.True);
                seen.Add(Convert.ToBase64String(member.ToArray()));
            }
            Assert.That(seen, Is.EquivalentTo(expected), $"round {round}");
        }
    }

    [Test]
    public void RemovedMembersGiveTheirBytesBack()
    {
        var set = new SetObject();
        for (int i = 0; i < 100_000; i++)
            set.Add(Encoding.ASCII.GetBytes("member:" + i));
        long full = set.ArenaBytes;
        while (set.Count > 1000)
            set.RemoveAt(set.RandomIndex());
        TestContext.Out.WriteLine($"arena: {full} bytes with 100,000 members, {set.ArenaBytes} with 1,000");
        // 1,000 members of about 12 bytes: a rebuild leaves them in one slab of about 12 KB (plus its table).
        Assert.That(set.ArenaBytes, Is.LessThan(full / 20));
    }

    [Test]
    public void MemberRemovedByPositionStaysReadableUntilTheNextChange()
    {
        var set = new SetObject();
        set.Add("only"u8);
        var removed = set.RemoveAt(0);
        Assert.That(Encoding.ASCII.GetString(removed), Is.EqualTo("only"));
        Assert.That(set.Count, Is.Zero);
    }
}

/// <summary>
/// A hash whose fields and values live in a byte arena: every pair readable as last set, across overwrites
/// of another length (which leave holes and rebuild the arena), removals, values past the packed limit, and a
/// clone; and a 1M-field hash, filled as <c>scripts/bench memory</c> fills it, costs less than redis-server's.
/// </summary>
public class HashArenaTests
{
    /// <summary>redis-server 7.0.15's used_memory for the bench's 1M-field hash (70.0 MB, less its 0.9 MB at startup), per field.</summary>
    private const double RedisBytesPerField = 72.5;

    private static byte[] B(string s) => Encoding.ASCII.GetBytes(s);

    private static byte[] Value(int i, int round) =>
        round % 3 == 2 && i % 50 == 0 ? new byte[ByteArena.MaxPackedLength + i % 7] : B(new string('v', (i + round) % 23) + i);

    [Test]
    public void EveryFieldReadsBackAsLastSet()
    {
        var hash = new HashObject();
        var expected = new Dictionary<string, byte[]>();
        for (int round = 0; round < 6; round++)
        {
            for (int i = 0; i < 3000; i++)
            {
                var value = Value(i, round);
                bool added = hash.Set(B("field:" + i), value);
                Assert.That(added, Is.EqualTo(!expected.ContainsKey("field:" + i)));
                expected["field:" + i] = value;
            }
            for (int i = round; i < 3000; i += 3)
            {
                Assert.That(hash.Remove(B("field:" + i)), Is.EqualTo(expected.Remove("field:" + i)));
            }
            Assert.That(hash.Count, Is.EqualTo(expected.Count));
            foreach (var (field, value) in expected)
            {
                Assert.That(hash.TryGet(B(field), out var got), Is.True, field);
                Assert.That(got, Is.EqualTo(value), field);
            }
        }
        var copy = (HashObject)hash.Clone();
        Assert.That(copy.Entries.ToDictionary(e => Encoding.ASCII.GetString(e.Key), e => e.Value), Is.EquivalentTo(expected));
    }

    [Test]
    [NonParallelizable]
    public void FieldCostsLessThanRedis()
    {
        long before = GC.GetTotalMemory(forceFullCollection: true);
        var hash = new HashObject();
        for (int i = 0; i < 1_000_000; i++)
            hash.Set(B("field:" + i), B("v" + i.ToString("D9")));
        long after = GC.GetTotalMemory(forceFullCollection: true);
        double perField = (after - before) / (double)hash.Count;
        TestContext.Out.WriteLine($"hash: {perField:F1} bytes per field (redis-server: {RedisBytesPerField})");
        // With an array per field it took 82.1 MB for the bench's hash, about 84 bytes a field.
        Assert.That(perField, Is.LessThanOrEqualTo(RedisBytesPerField));
        GC.KeepAlive(hash);
    }
}

/// <summary>
/// A sorted set whose members live in a byte arena: members, scores and order intact across removals by
/// member and by node (which rebuild the arena once holes outweigh live bytes), score updates and long members.
/// </summary>
public class SortedSetArenaTests
{
    private static byte[] Member(int i) =>
        i % 101 == 0 ? Encoding.ASCII.GetBytes(new string('m', ByteArena.MaxPackedLength) + i) : Encoding.ASCII.GetBytes("member:" + i);

    [Test]
    public void MembersScoresAndOrderSurviveRemovalsAndRebuilds()
    {
        var zset = new SortedSetObject();
        var expected = new Dictionary<string, double>();
        var rng = new Random(3);
        for (int round = 0; round < 5; round++)
        {
            for (int i = round * 2000; i < round * 2000 + 3000; i++)
            {
                double score = rng.Next(500);
                zset.Add(Member(i), score);
                expected[Encoding.ASCII.GetString(Member(i))] = score;
            }
            // Two thirds removed: by member, and by node as range removals do.
            var keys = expected.Keys.ToList();
            for (int k = 0; k < keys.Count * 2 / 3; k++)
            {
                if (k % 2 == 0)
                {
                    Assert.That(zset.Remove(Encoding.ASCII.GetBytes(keys[k])), Is.True);
                }
                else
                {
                    var node = zset.Find(Encoding.ASCII.GetBytes(keys[k]))!;
                    zset.Delete(node);
                }
                expected.Remove(keys[k]);
            }
            Assert.That(zset.Count, Is.EqualTo(expected.Count));
            var entries = zset.Entries.ToList();
            var order = expected.OrderBy(e => e.Value).ThenBy(e => Encoding.ASCII.GetBytes(e.Key), Comparer<byte[]>.Create((a, b) => a.AsSpan().SequenceCompareTo(b)));
            Assert.That(entries.Select(e => (Encoding.ASCII.GetString(e.Member), e.Score)), Is.EqualTo(order.Select(e => (e.Key, e.Value))), $"round {round}");
            foreach (var (member, score) in expected)
            {
                Assert.That(zset.TryGetScore(Encoding.ASCII.GetBytes(member), out double got), Is.True);
                Assert.That(got, Is.EqualTo(score));
            }
        }
    }
}
