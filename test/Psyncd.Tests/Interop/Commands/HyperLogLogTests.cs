using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Commands;

/// <summary>PFADD/PFCOUNT/PFMERGE compared with redis-server: same counts, and each reads the other's HyperLogLog strings.</summary>
[Category("Interop")]
public class HyperLogLogTests : DifferentialFixture
{
    [Test]
    public void CountsMatchRedisAtEverySize()
    {
        using var p = _psyncd.Connect();
        using var r = _redis.Connect();
        var rng = new Random(11);
        int added = 0;
        foreach (int target in new[] { 1, 10, 100, 1000, 5000, 30000 })
        {
            var batch = new List<string> { "PFADD", "hll:a" };
            while (added < target)
            {
                batch.Add("e" + rng.Next() + ":" + added++);
                if (batch.Count == 500 || added == target)
                {
                    Assert.That(p.Command(batch.ToArray()), Is.EqualTo(r.Command(batch.ToArray())));
                    batch.RemoveRange(2, batch.Count - 2);
                }
            }
            Assert.That(p.Command("PFCOUNT", "hll:a"), Is.EqualTo(r.Command("PFCOUNT", "hll:a")), "at " + target);
        }
        foreach (var command in new[]
        {
            new[] { "PFADD", "hll:b", "x", "y", "e1:1" },
            new[] { "PFCOUNT", "hll:a", "hll:b", "hll:none" },
            new[] { "PFMERGE", "hll:m", "hll:a", "hll:b" },
            new[] { "PFCOUNT", "hll:m" },
            new[] { "PFADD", "hll:empty" },
            new[] { "PFADD", "hll:empty" },
            new[] { "PFCOUNT", "hll:empty" },
            new[] { "SET", "hll:str", "plain" },
            new[] { "PFADD", "hll:str", "a" },
            new[] { "PFCOUNT", "hll:str" },
            new[] { "PFMERGE", "hll:m", "hll:str" },
            new[] { "SADD", "hll:set", "a" },
            new[] { "PFADD", "hll:set", "a" },
            new[] { "PFCOUNT", "hll:none" },
        })
        {
            Assert.That(p.Command(command), Is.EqualTo(r.Command(command)), string.Join(' ', command));
        }
    }

    [Test]
    public void ReadsRedisSparseAndDenseValues()
    {
        using var p = _psyncd.Connect();
        using var r = _redis.Connect();
        foreach (int size in new[] { 3, 200, 2000, 20000 })
        {
            string key = "hll:x" + size;
            for (int i = 0; i < size; i += 1000)
            {
                var batch = new List<string> { "PFADD", key };
                for (int j = i; j < Math.Min(size, i + 1000); j++)
                    batch.Add("member-" + j);
                r.Command(batch.ToArray());
            }
            // Redis's own string (sparse while small, dense later), copied byte for byte.
            var raw = (string)r.Call("GET", key)!;
            Assert.That(p.Command(new[] { System.Text.Encoding.Latin1.GetBytes("SET"), System.Text.Encoding.Latin1.GetBytes(key), System.Text.Encoding.Latin1.GetBytes(raw) }), Is.EqualTo("+OK\r\n"));
            Assert.That(p.Command("PFCOUNT", key), Is.EqualTo(r.Command("PFCOUNT", key)), "size " + size);
            Assert.That(p.Command("PFADD", key, "one-more"), Is.EqualTo(r.Command("PFADD", key, "one-more")));
            // And back: redis-server reads psyncd's dense string.
            var mine = (string)p.Call("GET", key)!;
            r.Command(new[] { System.Text.Encoding.Latin1.GetBytes("SET"), System.Text.Encoding.Latin1.GetBytes(key + ":back"), System.Text.Encoding.Latin1.GetBytes(mine) });
            Assert.That(r.Command("PFCOUNT", key + ":back"), Is.EqualTo(r.Command("PFCOUNT", key)));
        }
    }
}
