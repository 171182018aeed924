using System.Text;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Commands;

/// <summary>
/// Seeded random sequences of list and hash commands sent to psyncd and to a real redis-server: every reply
/// must be identical (replies whose order is unspecified, HKEYS/HVALS/HGETALL/HSCAN, are compared sorted).
/// </summary>
[Category("Interop")]
public class ListAndHashDifferentialTests : DifferentialFixture
{
    private static readonly string[] s_values =
    {
        "a", "b", "c", "d", "", "1", "-5", "10", "0", "x y", "hello", "a*", "9223372036854775807", "-9223372036854775808",
        "3.5", "0.1", "1e3", new string('v', 200), new string('w', 130),
    };

    private static readonly string[] s_floats =
    {
        "0.1", "-0.2", "1", "2.5", "1e3", "-1.5e-3", "1000000.1", "3.14159265358979", "abc", "inf", "-inf", "1e400", "", " 1", "0x10", "7",
    };

    private static readonly string[] s_ints =
    {
        "0", "1", "-1", "2", "-3", "5", "10", "-10", "100", "9223372036854775807", "-9223372036854775808", "abc", "1.5", "", "+1", "01",
    };

    [TestCase(1)]
    [TestCase(2)]
    [TestCase(3)]
    public void RandomCommandsReplyAsRedisDoes(int seed)
    {
        using var p = _psyncd.Connect();
        using var r = _redis.Connect();
        string prefix = "d" + seed + ":";
        var random = new Random(seed);
        string[] keys = { prefix + "k0", prefix + "k1", prefix + "k2", prefix + "k3", prefix + "k4", prefix + "big" };
        string[] fields = Enumerable.Range(0, 24).Select(i => "f" + i).Append("a*").Append("").ToArray();

        // A long list spread over many nodes, with long elements mixed in.
        var bulk = new List<string> { "RPUSH", prefix + "big" };
        for (int i = 0; i < 3000; i++)
            bulk.Add(i % 97 == 0 ? new string('L', 300 + i) : "e" + (i % 50));
        Compare(p, r, bulk.ToArray());

        for (int step = 0; step < 4000; step++)
        {
            string Key() => random.Next(10) == 0 ? keys[5] : keys[random.Next(5)];
            string Value() => s_values[random.Next(s_values.Length)];
            string Field() => fields[random.Next(fields.Length)];
            string Index(int span) => random.Next(20) == 0 ? s_ints[random.Next(s_ints.Length)] : random.Next(-span, span).ToString();
            int span = 8;
            string key = Key();
            if (key == keys[5])
                span = 3100;
            string[] command = random.Next(44) switch
            {
                0 or 1 => new[] { "LPUSH", key }.Concat(Enumerable.Range(0, 1 + random.Next(3)).Select(_ => Value())).ToArray(),
                2 or 3 => new[] { "RPUSH", key }.Concat(Enumerable.Range(0, 1 + random.Next(3)).Select(_ => Value())).ToArray(),
                4 => new[] { "LPUSHX", key, Value() },
                5 => new[] { "RPUSHX", key, Value(), Value() },
                6 => random.Next(2) == 0 ? new[] { "LPOP", key } : new[] { "LPOP", key, Index(4) },
                7 => random.Next(2) == 0 ? new[] { "RPOP", key } : new[] { "RPOP", key, Index(4) },
                8 => new[] { "LLEN", key },
                9 or 10 => new[] { "LRANGE", key, Index(span), Index(span) },
                11 => new[] { "LINDEX", key, Index(span) },
                12 => new[] { "LSET", key, Index(span), Value() },
                13 => new[] { "LREM", key, random.Next(-3, 4).ToString(), Value() },
                14 => new[] { "LTRIM", key, Index(span), Index(span) },
                15 => new[] { "LINSERT", key, random.Next(5) switch { 0 => "AFTER", 1 => "before", 2 => "middle", _ => "BEFORE" }, Value(), Value() },
                16 => new[] { "RPOPLPUSH", Key(), Key() },
                17 => new[] { "LMOVE", Key(), Key(), random.Next(2) == 0 ? "LEFT" : "right", random.Next(6) == 0 ? "UP" : random.Next(2) == 0 ? "left" : "RIGHT" },
                18 or 19 or 20 => new[] { "HSET", key }.Concat(Enumerable.Range(0, 1 + random.Next(3)).SelectMany(_ => new[] { Field(), Value() })).Concat(random.Next(15) == 0 ? new[] { "odd" } : Array.Empty<string>()).ToArray(),
                21 => new[] { "HSETNX", key, Field(), Value() },
                22 or 23 => new[] { "HGET", key, Field() },
                24 => new[] { "HMSET", key, Field(), Value(), Field(), Value() },
                25 => new[] { "HMGET", key, Field(), Field(), Field() },
                26 => new[] { "HDEL", key }.Concat(Enumerable.Range(0, 1 + random.Next(3)).Select(_ => Field())).ToArray(),
                27 => new[] { "HLEN", key },
                28 => new[] { "HEXISTS", key, Field() },
                29 or 30 => new[] { "HINCRBY", key, Field(), s_ints[random.Next(s_ints.Length)] },
                31 or 32 => new[] { "HINCRBYFLOAT", key, Field(), s_floats[random.Next(s_floats.Length)] },
                33 => new[] { "HKEYS", key },
                34 => new[] { "HVALS", key },
                35 => new[] { "HGETALL", key },
                36 => new[] { "HSTRLEN", key, Field() },
                37 => random.Next(4) switch
                {
                    // Cursors and batches of a table-encoded hash are the implementation's own: whole scans are compared.
                    0 => new[] { "HSCAN*", key, "0" },
                    1 => new[] { "HSCAN*", key, "0", "MATCH", "f1*" },
                    2 => new[] { "HSCAN*", key, "0", "COUNT", s_ints[random.Next(s_ints.Length)] },
                    _ => new[] { "HSCAN", key, random.Next(3) == 0 ? "x" : "0", "MATCH" },
                },
                38 => new[] { "SET", key, Value() },
                39 => new[] { "DEL", key },
                40 => new[] { "TYPE", key },
                41 => new[] { "EXISTS", key },
                42 => random.Next(8) == 0 ? new[] { "BLPOP", Key(), Key(), "0.01" } : new[] { "BRPOP", Key(), random.Next(4) == 0 ? "-1" : "0.01" },
                _ => random.Next(8) == 0 ? new[] { "BRPOPLPUSH", Key(), Key(), "0.01" } : new[] { "LRANGE", key, "0", "-1" },
            };
            if (command[0] == "HSCAN*")
            {
                command[0] = "HSCAN";
                string expected = FullScan(r, command);
                Assert.That(FullScan(p, command), Is.EqualTo(expected), "whole scan of " + string.Join(' ', command));
                continue;
            }
            Compare(p, r, command);
        }
        foreach (var key in keys)
        {
            Compare(p, r, "TYPE", key);
            Compare(p, r, "LRANGE", key, "0", "-1");
            Compare(p, r, "HGETALL", key);
        }
    }

    private static void Compare(RawClient p, RawClient r, params string[] command)
    {
        string expected = Normalize(command[0], r.Command(command));
        string actual = Normalize(command[0], p.Command(command));
        Assert.That(actual, Is.EqualTo(expected), "reply to " + string.Join(' ', command.Select(a => a.Length > 40 ? a[..40] + "..." : a)));
    }

    /// <summary>Replies whose order Redis leaves unspecified are sorted (pairs kept together for HGETALL/HSCAN).</summary>
    private static string Normalize(string command, string reply)
    {
        string name = command.ToUpperInvariant();
        if (reply.StartsWith('-') || reply.StartsWith("*0") || reply.StartsWith("*-1"))
            return reply;
        int pos = 0;
        switch (name)
        {
            case "HKEYS" or "HVALS":
            {
                var items = (object?[])Parse(reply, ref pos)!;
                return "sorted:" + string.Join("|", items.Select(i => (string)i!).Order(StringComparer.Ordinal));
            }
            case "HGETALL":
                return "pairs:" + Pairs((object?[])Parse(reply, ref pos)!);
            case "HSCAN":
            {
                var items = (object?[])Parse(reply, ref pos)!;
                return "scan:" + items[0] + ":" + Pairs((object?[])items[1]!);
            }
            default:
                return reply;
        }
    }

    private static string Pairs(object?[] flat)
    {
        var pairs = new List<string>();
        for (int i = 0; i + 1 < flat.Length; i += 2)
            pairs.Add(flat[i] + "=" + flat[i + 1]);
        pairs.Sort(StringComparer.Ordinal);
        return string.Join("|", pairs);
    }

    private static object? Parse(string text, ref int pos)
    {
        int eol = text.IndexOf("\r\n", pos, StringComparison.Ordinal);
        string line = text[pos..eol];
        pos = eol + 2;
        switch (line[0])
        {
            case '$':
            {
                int length = int.Parse(line.AsSpan(1));
                if (length < 0)
                    return null;
                string value = text.Substring(pos, length);
                pos += length + 2;
                return value;
            }
            case '*':
            {
                int count = int.Parse(line.AsSpan(1));
                var items = new object?[Math.Max(count, 0)];
                for (int i = 0; i < count; i++)
                    items[i] = Parse(text, ref pos);
                return items;
            }
            default:
                return line;
        }
    }

    [Test]
    public void LargeHashScanAndContentsMatchRedis()
    {
        using var p = _psyncd.Connect();
        using var r = _redis.Connect();
        var sb = new StringBuilder();
        var args = new List<string> { "HSET", "dh:large" };
        for (int i = 0; i < 2000; i++)
        {
            args.Add("field:" + i);
            args.Add("value:" + (i * 7));
        }
        Compare(p, r, args.ToArray());
        Compare(p, r, "HLEN", "dh:large");
        Compare(p, r, "HGETALL", "dh:large");
        Compare(p, r, "HKEYS", "dh:large");
        Compare(p, r, "HVALS", "dh:large");
        Assert.That(FullScan(p, "dh:large", null), Is.EqualTo(FullScan(r, "dh:large", null)));
        Assert.That(FullScan(p, "dh:large", "field:1*"), Is.EqualTo(FullScan(r, "dh:large", "field:1*")));
        for (int i = 0; i < 2000; i += 3)
            Compare(p, r, "HDEL", "dh:large", "field:" + i);
        Compare(p, r, "HGETALL", "dh:large");
        Assert.That(FullScan(p, "dh:large", null), Is.EqualTo(FullScan(r, "dh:large", null)));
    }

    /// <summary>A whole HSCAN with the options of <paramref name="command"/> (HSCAN key 0 ...): its pairs, or its error.</summary>
    private static string FullScan(RawClient client, string[] command)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        var args = (string[])command.Clone();
        int calls = 0;
        do
        {
            var reply = client.Call(args);
            if (reply is RespError error)
                return error.ToString();
            var parts = (object?[])reply!;
            args[2] = (string)parts[0]!;
            var items = (object?[])parts[1]!;
            for (int i = 0; i < items.Length; i += 2)
                seen.Add(items[i] + "=" + items[i + 1]);
            Assert.That(++calls, Is.LessThan(100_000));
        }
        while (args[2] != "0");
        return string.Join("|", seen);
    }

    /// <summary>Every field/value pair a whole HSCAN returns, sorted and without repeats.</summary>
    private static string FullScan(RawClient client, string key, string? pattern)
    {
        var seen = new SortedSet<string>(StringComparer.Ordinal);
        string cursor = "0";
        int calls = 0;
        do
        {
            var reply = pattern is null ? client.Call("HSCAN", key, cursor, "COUNT", "17") : client.Call("HSCAN", key, cursor, "MATCH", pattern);
            var parts = (object?[])reply!;
            cursor = (string)parts[0]!;
            var items = (object?[])parts[1]!;
            for (int i = 0; i < items.Length; i += 2)
                seen.Add(items[i] + "=" + items[i + 1]);
            Assert.That(++calls, Is.LessThan(100_000));
        }
        while (cursor != "0");
        return string.Join("|", seen);
    }
}
