using System.Text;
using Psyncd.Admin;
using Psyncd.Storage;
using Psyncd.Storage.Types;

namespace Psyncd.Tests.Unit.Storage;

/// <summary>DEBUG DIGEST's digest over every value type, on in-process keyspaces.</summary>
public class DigestTests
{
    private static byte[] B(string s) => Encoding.UTF8.GetBytes(s);

    /// <summary>Fills a keyspace; <paramref name="reverse"/> inserts keys and members in the opposite order.</summary>
    private static byte[] DigestOf(bool reverse, Action<Keyspace>? change = null)
    {
        using var keyspace = new Keyspace(StoreSettings.Small, 16);
        keyspace.EnterLoop();
        try
        {
            var steps = new List<Action>
            {
                () => keyspace.SetString(0, B("s"), B("value")),
                () => keyspace.SetString(2, B("s"), B("other db"), expireAt: 4_000_000_000_000),
                () =>
                {
                    var hash = new HashObject();
                    foreach (var f in Order(new[] { "f1", "f2", "f3" }))
                        hash.Set(B(f), B("v-" + f));
                    keyspace.SetObject(0, B("h"), hash);
                },
                () =>
                {
                    var set = new SetObject();
                    foreach (var m in Order(new[] { "a", "b", "c", "d" }))
                        set.Add(B(m));
                    keyspace.SetObject(0, B("set"), set);
                },
                () =>
                {
                    var zset = new SortedSetObject();
                    foreach (var m in Order(new[] { "x", "y", "z" }))
                        zset.Add(B(m), m[0] - 'x' + 0.5);
                    keyspace.SetObject(0, B("z"), zset);
                },
                () =>
                {
                    var list = new ListObject();
                    foreach (var item in new[] { "1", "2", "3" })
                        list.PushRight(B(item));
                    keyspace.SetObject(1, B("l"), list);
                },
            };
            foreach (var step in Order(steps.ToArray()))
                step();
            change?.Invoke(keyspace);
            return Digest.OfKeyspace(keyspace);
        }
        finally
        {
            keyspace.ExitLoop();
        }

        IEnumerable<T> Order<T>(T[] items) => reverse ? items.Reverse() : items;
    }

    [Test]
    public void EqualDataGivesEqualDigestsWhateverTheInsertionOrder()
    {
        var a = DigestOf(reverse: false);
        var b = DigestOf(reverse: true);
        Assert.That(b, Is.EqualTo(a));
        Assert.That(a, Is.Not.EqualTo(new byte[20]));
    }

    [Test]
    public void EmptyDatasetDigestsToZeros()
    {
        using var keyspace = new Keyspace(StoreSettings.Small, 16);
        keyspace.EnterLoop();
        try
        {
            Assert.That(Digest.OfKeyspace(keyspace), Is.EqualTo(new byte[20]));
        }
        finally
        {
            keyspace.ExitLoop();
        }
    }

    [Test]
    public void AnyChangeChangesTheDigest()
    {
        var original = DigestOf(reverse: false);
        var changes = new Dictionary<string, Action<Keyspace>>
        {
            ["hash value"] = k => ((HashObject)k.LookupWrite(0, B("h")).Object!).Set(B("f1"), B("changed")),
            ["set member"] = k => ((SetObject)k.LookupWrite(0, B("set")).Object!).Add(B("e")),
            ["zset score"] = k => ((SortedSetObject)k.LookupWrite(0, B("z")).Object!).Add(B("x"), 9),
            ["list order"] = k => ((ListObject)k.LookupWrite(1, B("l")).Object!).PushLeft(B("0")),
            ["expiry removed"] = k => k.Persist(2, B("s")),
            ["string"] = k => k.SetString(0, B("s"), B("valuf")),
            ["moved to another db"] = k =>
            {
                k.Delete(0, B("s"));
                k.SetString(3, B("s"), B("value"));
            },
        };
        foreach (var (name, change) in changes)
            Assert.That(DigestOf(reverse: false, change), Is.Not.EqualTo(original), name);
    }
}
