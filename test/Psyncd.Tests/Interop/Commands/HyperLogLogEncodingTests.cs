using System.Text;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Commands;

/// <summary>
/// HyperLogLog strings byte for byte against redis-server 7.0: the same PFADD/PFMERGE/PFCOUNT sequences
/// leave the same bytes (sparse encoding, promotion to dense, cached cardinality), and PFDEBUG, PFSELFTEST
/// and the errors for corrupt or invalid values answer the same. Elements that land on a chosen register
/// with a chosen count are made by inverting Redis's hash (<see cref="ElementFor"/>), so that every case of
/// the sparse edit is reached on purpose, not by luck.
/// </summary>
[Category("Interop")]
public class HyperLogLogEncodingTests : PairedDifferentialFixture
{
    protected override string[] ServerArgs => ["--enable-debug-command", "yes"];

    protected override void BeforeDisconnect() => Both("CONFIG", "SET", "hll-sparse-max-bytes", "3000");

    /// <summary>The key's bytes, its encoding and DIGEST-VALUE equal on both servers.</summary>
    private void SameValue(string key, string context)
    {
        string mine = _p.Command("GET", key);
        Assert.That(mine, Is.EqualTo(_r.Command("GET", key)), "GET " + key + " " + context);
        Both("PFDEBUG", "ENCODING", key);
        Both("DEBUG", "DIGEST-VALUE", key);
    }

    // ------------------------------------------------------------------
    // Elements for chosen registers: Redis's MurmurHash64A (seed 0xadc83b19) of an 8-byte element is a
    // chain of bijections (xor-shifts by 47 and multiplications by an odd constant), so the element whose
    // hash has a given value is found by running the chain backwards.
    // ------------------------------------------------------------------

    private const ulong M = 0xc6a4a7935bd1e995;

    private static ulong UndoXorShift(ulong h)
    {
        ulong x = h;
        for (int i = 0; i < 3; i++)
            x = h ^ (x >> 47);
        return x;
    }

    private static ulong Inverse(ulong a)
    {
        ulong x = a;
        for (int i = 0; i < 6; i++)
            x *= 2 - a * x;
        return x;
    }

    /// <summary>An 8-byte element (as a Latin-1 string) that PFADD puts in register <paramref name="index"/> with <paramref name="count"/> (1..50).</summary>
    private static string ElementFor(int index, int count, ulong salt = 0)
    {
        ulong mInverse = Inverse(M);
        // Bits above the pattern are free: the salt makes distinct elements for the same register and count.
        ulong hash = (uint)index | (1UL << (14 + count - 1)) | (count <= 45 ? salt << 60 : 0UL);
        ulong h = UndoXorShift(hash);
        h *= mInverse;
        h = UndoXorShift(h);
        ulong h0 = 0xadc83b19UL ^ unchecked(8 * M);
        ulong k = (h * mInverse) ^ h0;
        k *= mInverse;
        k = UndoXorShift(k);
        k *= mInverse;
        return Encoding.Latin1.GetString(BitConverter.GetBytes(k));
    }

    [Test]
    public void ChosenElementsLandWhereAsked()
    {
        Both("DEL", "hll:chosen");
        Both("PFADD", "hll:chosen", ElementFor(7, 5));
        var registers = (object?[])_p.Call("PFDEBUG", "GETREG", "hll:chosen")!;
        Assert.That(registers[7], Is.EqualTo(5L));
        Assert.That(registers.Count(r => (long)r! != 0), Is.EqualTo(1));
    }

    // ------------------------------------------------------------------

    [Test]
    public void RandomAddsMatchRedisBytesUntilAndAfterPromotion()
    {
        var rng = new Random(1107);
        foreach (string limit in new[] { "3000", "300", "40" })
        {
            Both("CONFIG", "SET", "hll-sparse-max-bytes", limit);
            string key = "hll:random:" + limit;
            Both("DEL", key);
            int denseSteps = 0;
            for (int step = 0; denseSteps < 5; step++)
            {
                var command = new List<string> { "PFADD", key };
                int n = rng.Next(0, 12);
                for (int i = 0; i < n; i++)
                    command.Add(rng.Next(4) == 0 ? rng.Next(100).ToString() : "el:" + rng.Next(1_000_000));
                Both(command.ToArray());
                if (rng.Next(5) == 0)
                    Both("PFCOUNT", key);
                SameValue(key, "after step " + step + " (limit " + limit + ")");
                if (_p.Command("PFDEBUG", "ENCODING", key) == "+dense\r\n")
                    denseSteps++;
                Assert.That(step, Is.LessThan(5000), "the HyperLogLog became dense");
            }
            Both("PFCOUNT", key);
            SameValue(key, "at the end (limit " + limit + ")");
        }
    }

    [Test]
    public void EverySparseEditOnChosenRegisters()
    {
        var rng = new Random(77);
        for (int round = 0; round < 6; round++)
        {
            string key = "hll:edit:" + round;
            Both("DEL", key);
            // A window of registers small enough for runs of VALs to form, split and merge, at the start,
            // the end or the middle of the register range.
            int start = round switch { 0 => 0, 1 => 16384 - 40, _ => rng.Next(16384 - 40) };
            for (int step = 0; step < 120; step++)
            {
                int index = start + rng.Next(40);
                int count = rng.Next(4) == 0 ? rng.Next(1, 4) : rng.Next(1, 33);
                Both("PFADD", key, ElementFor(index, count, (ulong)rng.Next(16)));
                SameValue(key, "round " + round + " step " + step + " register " + index + " count " + count);
            }
            Both("PFCOUNT", key);
            SameValue(key, "round " + round);
            Both("PFDEBUG", "DECODE", key);
        }
        // Zero runs of exactly 64 and 65 registers (ZERO's longest, XZERO's shortest) around an edit.
        Both("DEL", "hll:edit:runs");
        Both("PFADD", "hll:edit:runs", ElementFor(64, 3));
        Both("PFADD", "hll:edit:runs", ElementFor(130, 3));
        Both("PFADD", "hll:edit:runs", ElementFor(129, 3), ElementFor(131, 3), ElementFor(128, 3));
        SameValue("hll:edit:runs", "zero runs");
        Both("PFDEBUG", "DECODE", "hll:edit:runs");
    }

    [Test]
    public void RegistersAboveThirtyTwoMakeItDense()
    {
        foreach (int count in new[] { 32, 33, 40, 50 })
        {
            string key = "hll:high:" + count;
            Both("DEL", key);
            Both("PFADD", key, "a", "b", "c");
            Both("PFCOUNT", key);
            Both("PFADD", key, ElementFor(9000, count));
            SameValue(key, "count " + count);
            Both("PFCOUNT", key);
            SameValue(key, "count " + count + " counted");
        }
    }

    [Test]
    public void MergesOverBothEncodings()
    {
        var rng = new Random(5);
        string[] sources = { "hll:m:small1", "hll:m:small2", "hll:m:large", "hll:m:empty" };
        foreach (var key in sources)
            Both("DEL", key);
        for (int i = 0; i < 30; i++)
            Both("PFADD", "hll:m:small1", "a" + rng.Next(1000));
        for (int i = 0; i < 30; i++)
            Both("PFADD", "hll:m:small2", "a" + rng.Next(1000), ElementFor(rng.Next(16384), rng.Next(1, 33)));
        for (int i = 0; i < 40; i++)
        {
            var batch = new List<string> { "PFADD", "hll:m:large" };
            for (int j = 0; j < 100; j++)
                batch.Add("b" + rng.Next());
            Both(batch.ToArray());
        }
        Both("PFADD", "hll:m:empty");
        Assert.That(Both("PFDEBUG", "ENCODING", "hll:m:large"), Is.EqualTo("+dense\r\n"));

        string[][] merges =
        {
            new[] { "hll:m:d1", "hll:m:small1", "hll:m:small2" },
            new[] { "hll:m:d2", "hll:m:small1", "hll:m:large" },
            new[] { "hll:m:d3" },
            new[] { "hll:m:d4", "hll:m:missing" },
            new[] { "hll:m:small1", "hll:m:small2" },
            new[] { "hll:m:empty", "hll:m:small2", "hll:m:missing" },
            new[] { "hll:m:d1", "hll:m:large" },
            new[] { "hll:m:d5", "hll:m:empty", "hll:m:empty" },
        };
        foreach (var merge in merges)
            Both("DEL", merge[0]);
        Both("SET", "hll:m:ttl", "x");
        Both("DEL", "hll:m:ttl");
        Both("PFADD", "hll:m:ttl", "t");
        Both("EXPIRE", "hll:m:ttl", "1000");
        foreach (var merge in merges.Append(new[] { "hll:m:ttl", "hll:m:small1" }))
        {
            Both(["PFMERGE", .. merge]);
            SameValue(merge[0], "PFMERGE " + string.Join(' ', merge));
            Both("TTL", merge[0]);
            Both("PFCOUNT", merge[0]);
            SameValue(merge[0], "counted");
        }
        // Merged from sparse values only, with a low limit: the destination is promoted by size on the way.
        Both("CONFIG", "SET", "hll-sparse-max-bytes", "60");
        Both("DEL", "hll:m:limited");
        Both("PFMERGE", "hll:m:limited", "hll:m:small1", "hll:m:small2");
        SameValue("hll:m:limited", "merged under a low limit");
        Both("PFCOUNT", "hll:m:small1", "hll:m:small2", "hll:m:large", "hll:m:missing", "hll:m:empty");
        Both("PFCOUNT", "hll:m:missing", "hll:m:missing2");
    }

    [Test]
    public void PfDebugAnswersAsRedis()
    {
        Both("DEL", "hll:dbg", "hll:dbg:list", "hll:dbg:str", "hll:dbg:big");
        Both("PFADD", "hll:dbg", "a", "b", "c", ElementFor(3, 2), ElementFor(4, 2), ElementFor(200, 7));
        Both("RPUSH", "hll:dbg:list", "x");
        Both("SET", "hll:dbg:str", "not an hll");
        foreach (var sub in new[] { "ENCODING", "DECODE", "encoding", "nosuch", "bad\nname", "GETREG", "DECODE", "TODENSE", "ENCODING" })
        {
            foreach (var key in new[] { "hll:dbg", "hll:dbg:missing", "hll:dbg:list", "hll:dbg:str" })
                Both("PFDEBUG", sub, key);
        }
        SameValue("hll:dbg", "after GETREG");
        Both("PFADD", "hll:dbg:sparse", "x");
        Both("PFCOUNT", "hll:dbg:sparse");
        Both("PFDEBUG", "TODENSE", "hll:dbg:sparse");
        SameValue("hll:dbg:sparse", "TODENSE keeps the cached count");
        Both("PFDEBUG", "TODENSE", "hll:dbg:sparse");
        Both("PFDEBUG");
        Both("PFDEBUG", "GETREG");
        Both("PFDEBUG", "GETREG", "hll:dbg", "extra");
        Both("OBJECT", "ENCODING", "hll:dbg:sparse");
        Both("PFADD", "hll:dbg:fresh");
        Both("OBJECT", "ENCODING", "hll:dbg:fresh");
        // An HyperLogLog written by SET is an embstr until a HyperLogLog command touches it, even one that changes nothing.
        Both("PFADD", "hll:dbg:copy", "a");
        string copy = _p.Command("GET", "hll:dbg:copy");
        string bytes = copy[(copy.IndexOf('\n') + 1)..^2];
        foreach (var command in new[] { new[] { "PFADD", "hll:dbg:copy" }, new[] { "PFADD", "hll:dbg:copy", "a" }, new[] { "PFCOUNT", "hll:dbg:copy" },
                     new[] { "PFCOUNT", "hll:dbg:copy" }, new[] { "PFDEBUG", "ENCODING", "hll:dbg:copy" }, new[] { "PFCOUNT", "hll:dbg:copy", "hll:dbg:none" } })
        {
            Both("SET", "hll:dbg:copy", bytes);
            Both("OBJECT", "ENCODING", "hll:dbg:copy");
            Both(command);
            Both("OBJECT", "ENCODING", "hll:dbg:copy");
        }
    }

    [Test]
    public void SelfTestPasses()
    {
        Assert.That(Both("PFSELFTEST"), Is.EqualTo("+OK\r\n"));
        Both("PFSELFTEST", "extra");
    }

    private const string Header = "HYLL\u0001\0\0\0\0\0\0\0\0\0\0\u0080";

    [Test]
    public void CorruptAndInvalidValuesAnswerAsRedis()
    {
        var values = new Dictionary<string, string>
        {
            ["short"] = "HYLL",
            ["magic"] = "HYLX\u0001\0\0\0\0\0\0\0\0\0\0\0\u007f\u00ff",
            ["encoding"] = "HYLL\u0002\0\0\0\0\0\0\0\0\0\0\0\u007f\u00ff",
            ["dense-length"] = "HYLL\0\0\0\0\0\0\0\0\0\0\0\0" + new string('\0', 100),
            ["header-only"] = Header,
            ["too-few"] = Header + "\u007f\u00fe",
            ["too-many"] = Header + "\u007f\u00ff\u0080",
            ["val-overflow"] = Header + "\u007f\u00fd\u0083",
            ["truncated-xzero"] = Header + "\u00ff\u0040",
            // 255 registers, then an XZERO whose second byte is missing: read as zero, it covers the rest.
            ["xzero-at-end"] = Header + "\u0040\u00fe\u007f",
            ["half"] = Header + "\u005f\u00ff\u0080",
            ["val-after-all"] = Header + "\u0083\u007f\u00fb\u0080",
            ["zero-after-all"] = Header + "\u007f\u00ff\u0000",
            ["big-cache"] = "HYLL\u0001\0\0\0\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u007f\u00ff",
        };
        foreach (var (name, value) in values)
        {
            string key = "hll:bad:" + name;
            foreach (var command in new[]
            {
                new[] { "PFADD", key, "a" },
                new[] { "PFADD", key, "a", "b", "c" },
                new[] { "PFADD", key, ElementFor(20, 4), ElementFor(12000, 3) },
                new[] { "PFADD", key, ElementFor(5, 40) },
                new[] { "PFADD", key, ElementFor(16383, 2), "x", "y" },
                new[] { "PFADD", key },
                new[] { "PFCOUNT", key },
                new[] { "PFCOUNT", key, "hll:bad:none" },
                new[] { "PFMERGE", "hll:bad:dest", key },
                new[] { "PFMERGE", key, "hll:bad:none" },
                new[] { "PFDEBUG", "GETREG", key },
                new[] { "PFDEBUG", "DECODE", key },
                new[] { "PFDEBUG", "ENCODING", key },
                new[] { "PFDEBUG", "TODENSE", key },
            })
            {
                Both("SET", key, value);
                string reply = _p.Command(command);
                Assert.That(reply, Is.EqualTo(_r.Command(command)), name + ": " + Describe(command));
                Assert.That(_p.Command("GET", key), Is.EqualTo(_r.Command("GET", key)), name + ": GET after " + Describe(command));
                Both("DEL", "hll:bad:dest");
            }
        }
    }

    [Test]
    public void SparseMaxBytesIsAMemoryValue()
    {
        foreach (var value in new[] { "3kb", "0", "-1", "abc", "1gb", "1.5kb", "9223372036854775807", "9223372036854775808", "18446744073709551616", "9223372036854775807k", "12" })
        {
            Both("CONFIG", "SET", "hll-sparse-max-bytes", value);
            Both("CONFIG", "GET", "hll-sparse-max-bytes");
        }
        Both("CONFIG", "SET", "hll-sparse-max-bytes", "0");
        Both("DEL", "hll:zero-limit");
        Both("PFADD", "hll:zero-limit", "a");
        SameValue("hll:zero-limit", "a zero limit promotes at the first growth");
    }
}
