using System.Globalization;
using System.Text;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Commands;

/// <summary>
/// Seeded random differential test of the string and generic-key commands: the same few thousand commands
/// (good and bad arguments, wrong types, expiries in the future and in the past) go to psyncd and to a real
/// redis-server, and every reply must be the same bytes, except where Redis leaves the answer open (the order
/// of KEYS and SCAN, which key RANDOMKEY picks, the milliseconds a TTL has left).
/// </summary>
[Category("Interop")]
public class StringAndKeyDifferentialTests : DifferentialFixture
{
    /// <summary>Commands that create keys of other types (for WRONGTYPE cases).</summary>
    private readonly string[] _collectionWriters = { "LPUSH", "SADD", "HSET", "ZADD" };

    [OneTimeSetUp]
    public void Prepare()
    {
        // The collection writers the random sequences use to make WRONGTYPE cases: each must work on both
        // servers (a writer missing from psyncd must fail here, not silently drop those cases).
        using var psyncd = _psyncd.Connect();
        using var redis = _redis.Connect();
        foreach (var writer in _collectionWriters)
        {
            var args = writer switch
            {
                "HSET" => new[] { writer, "probe:" + writer, "f", "v" },
                "ZADD" => new[] { writer, "probe:" + writer, "1", "m" },
                _ => new[] { writer, "probe:" + writer, "m" },
            };
            Assert.That(psyncd.Command(args), Does.Not.StartWith("-"), "psyncd " + writer);
            Assert.That(redis.Command(args), Does.Not.StartWith("-"), "redis-server " + writer);
        }
    }

    [TestCase(1, 2500)]
    [TestCase(2, 2500)]
    [TestCase(3, 2500)]
    [TestCase(20261122, 4000)]
    public void RandomCommandsGetTheSameRepliesAsRedis(int seed, int commands)
    {
        using var p = _psyncd.Connect();
        using var r = _redis.Connect();
        Assert.That(p.Command("FLUSHALL"), Is.EqualTo("+OK\r\n"));
        Assert.That(r.Command("FLUSHALL"), Is.EqualTo("+OK\r\n"));
        var random = new Random(seed);
        var log = new List<string>();
        for (int i = 0; i < commands; i++)
        {
            var command = NextCommand(random);
            log.Add(Describe(command));
            if (log.Count > 30)
                log.RemoveAt(0);
            CompareOne(p, r, command, log);
        }
        CompareDatasets(p, r, log);
    }

    /// <summary>
    /// INCRBYFLOAT's long double arithmetic and "%.17Lf" printing, digit for digit: long chains of sums on a
    /// few keys, with increments from tiny to huge, hexadecimal, and near the range's ends.
    /// </summary>
    [TestCase(7)]
    [TestCase(8)]
    public void IncrByFloatChainsPrintTheSameDigits(int seed)
    {
        using var p = _psyncd.Connect();
        using var r = _redis.Connect();
        var random = new Random(seed);
        var log = new List<string>();
        for (int i = 0; i < 1500; i++)
        {
            string key = "f" + random.Next(3).ToString(CultureInfo.InvariantCulture);
            string increment = random.Next(10) switch
            {
                0 => "0x" + random.Next(1, 0xFFFF).ToString("x", CultureInfo.InvariantCulture) + (random.Next(2) == 0 ? "" : ".8p" + random.Next(-70, 70).ToString(CultureInfo.InvariantCulture)),
                1 => random.Next(1, 99) + "e" + random.Next(-4960, 4935).ToString(CultureInfo.InvariantCulture),
                2 => "-" + random.Next(1, 99) + "." + random.Next(0, 99) + "e" + random.Next(-30, 40).ToString(CultureInfo.InvariantCulture),
                3 => random.NextInt64(long.MinValue, long.MaxValue).ToString(CultureInfo.InvariantCulture),
                _ => Float(random),
            };
            if (random.Next(40) == 0)
            {
                var set = new[] { "SET", key, Float(random) };
                log.Add(Describe(set));
                Assert.That(p.Command(set), Is.EqualTo(r.Command(set)));
            }
            var command = new[] { "INCRBYFLOAT", key, increment };
            log.Add(Describe(command));
            if (log.Count > 10)
                log.RemoveAt(0);
            Assert.That(p.Command(command), Is.EqualTo(r.Command(command)), Context("reply", log));
        }
    }

    private void CompareOne(RawClient p, RawClient r, string[] command, List<string> log)
    {
        string name = command[0].ToUpperInvariant();
        if (name == "SCAN")
        {
            // Cursors differ by design; a whole iteration must return the same keys.
            var pKeys = FullScan(p, command);
            var rKeys = FullScan(r, command);
            Assert.That(pKeys, Is.EqualTo(rKeys), Context("full SCAN", log));
            return;
        }
        if (name == "OBJECT" && command.Length == 3 && command[1].Equals("ENCODING", StringComparison.OrdinalIgnoreCase)
            && r.Command("TYPE", command[2]) is not "+string\r\n" and not "+none\r\n")
        {
            // Collections' encodings belong to their families' tests; this test is about strings and keys.
            return;
        }
        string pReply = p.Command(command);
        string rReply = r.Command(command);
        if (command.Length == 2 && command[1].Equals("HELP", StringComparison.OrdinalIgnoreCase))
        {
            // HELP texts are psyncd's own words: the shape clients rely on is compared, not the prose.
            Assert.That(HelpShape(pReply), Is.EqualTo(HelpShape(rReply)), Context(pReply + " vs " + rReply, log));
            return;
        }
        switch (name)
        {
            case "KEYS":
                Assert.That(SortedArray(pReply), Is.EqualTo(SortedArray(rReply)), Context(pReply + " vs " + rReply, log));
                return;
            case "RANDOMKEY":
                Assert.That(pReply == "$-1\r\n", Is.EqualTo(rReply == "$-1\r\n"), Context(pReply + " vs " + rReply, log));
                return;
            case "TTL" or "PTTL":
                Assert.That(SameTtl(pReply, rReply, name == "PTTL" ? 1500 : 2), Is.True, Context(pReply + " vs " + rReply, log));
                return;
            default:
                Assert.That(pReply, Is.EqualTo(rReply), Context("reply", log));
                return;
        }
    }

    private static List<string> FullScan(RawClient client, string[] command)
    {
        var keys = new List<string>();
        var args = (string[])command.Clone();
        args[1] = "0";
        for (int guard = 0; guard < 10_000; guard++)
        {
            var reply = client.Call(args);
            if (reply is RespError error)
                return new List<string> { "error: " + error.Message };
            var parts = (object?[])reply!;
            foreach (var key in (object?[])parts[1]!)
                keys.Add((string)key!);
            args[1] = (string)parts[0]!;
            if (args[1] == "0")
                break;
        }
        keys.Sort(StringComparer.Ordinal);
        return keys.Distinct().ToList();
    }

    /// <summary>Compares both datasets at the end: every key, its type, value and whether it has a time to live, in both databases used.</summary>
    private static void CompareDatasets(RawClient p, RawClient r, List<string> log)
    {
        foreach (var db in new[] { "1", "0" })
        {
            Assert.That(p.Command("SELECT", db), Is.EqualTo(r.Command("SELECT", db)));
            var keys = SortedArray(r.Command("KEYS", "*"));
            Assert.That(SortedArray(p.Command("KEYS", "*")), Is.EqualTo(keys), Context("KEYS * in db " + db, log));
            Assert.That(p.Command("DBSIZE"), Is.EqualTo(r.Command("DBSIZE")), Context("DBSIZE of db " + db, log));
            foreach (var key in keys)
            {
                var type = r.Command("TYPE", key);
                Assert.That(p.Command("TYPE", key), Is.EqualTo(type), Context("TYPE " + key, log));
                if (type == "+string\r\n")
                    Assert.That(p.Command("GET", key), Is.EqualTo(r.Command("GET", key)), Context("GET " + key, log));
                Assert.That(SameTtl(p.Command("TTL", key), r.Command("TTL", key), 2), Is.True, Context("TTL " + key, log));
            }
        }
    }

    private static bool SameTtl(string a, string b, long tolerance)
    {
        if (a == b)
            return true;
        if (!a.StartsWith(':') || !b.StartsWith(':'))
            return false;
        long x = long.Parse(a.AsSpan(1, a.Length - 3), CultureInfo.InvariantCulture);
        long y = long.Parse(b.AsSpan(1, b.Length - 3), CultureInfo.InvariantCulture);
        return x >= 0 && y >= 0 && Math.Abs(x - y) <= tolerance;
    }

    /// <summary>The bulk strings of an array reply, sorted (or the reply itself when it is not an array).</summary>
    /// <summary>
    /// A HELP reply reduced to what a client may depend on: an array of status lines whose first names the
    /// command and its subcommand syntax and whose last two describe HELP. The lines between are prose.
    /// </summary>
    private static string HelpShape(string reply)
    {
        var lines = reply.Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        if (lines.Length < 4 || !lines[0].StartsWith('*') || lines.Skip(1).Any(line => !line.StartsWith('+')))
            return reply;
        return lines[1] + " ... " + lines[^2] + " " + lines[^1];
    }

    private static List<string> SortedArray(string reply)
    {
        if (!reply.StartsWith('*'))
            return new List<string> { reply };
        var items = new List<string>();
        int pos = reply.IndexOf("\r\n", StringComparison.Ordinal) + 2;
        while (pos < reply.Length)
        {
            int eol = reply.IndexOf("\r\n", pos, StringComparison.Ordinal);
            int length = int.Parse(reply.AsSpan(pos + 1, eol - pos - 1), CultureInfo.InvariantCulture);
            items.Add(reply.Substring(eol + 2, length));
            pos = eol + 2 + length + 2;
        }
        items.Sort(StringComparer.Ordinal);
        return items;
    }

    private static string Context(string what, List<string> log) => what + "\nlast commands:\n  " + string.Join("\n  ", log);

    private static string Describe(string[] command)
        => string.Join(' ', command.Select(a => a.Length > 60 ? a[..20] + "...(" + a.Length + " bytes)" : Printable(a)));

    private static string Printable(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s)
            sb.Append(c is >= ' ' and < (char)127 ? c.ToString() : "\\x" + ((int)c).ToString("x2", CultureInfo.InvariantCulture));
        return sb.Length == 0 ? "\"\"" : sb.ToString();
    }

    // ------------------------------------------------------------------
    // The command generator
    // ------------------------------------------------------------------

    private static readonly string[] s_keys = { "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "{a}", "" };

    private static string Key(Random random) => random.Next(40) == 0 ? "" : s_keys[random.Next(s_keys.Length - 1)];

    private static string Value(Random random) => random.Next(14) switch
    {
        0 => random.Next(-20, 100).ToString(CultureInfo.InvariantCulture),
        1 => random.NextInt64(long.MinValue, long.MaxValue).ToString(CultureInfo.InvariantCulture),
        2 => new[] { "9223372036854775807", "-9223372036854775808", "9223372036854775806", "-9223372036854775807" }[random.Next(4)],
        3 => Float(random),
        4 => "",
        5 => new[] { " 1", "1 ", "+1", "01", "-0", "0x10", "1e3", "inf", "-inf", "nan", "abc", "1.5e", ".5", "5." }[random.Next(14)],
        6 => Binary(random, random.Next(1, 12)),
        7 => new string('x', random.Next(40, 50)),
        8 => Binary(random, random.Next(100, 300)),
        9 => random.Next(20) == 0 ? new string('y', 17_000 + random.Next(100)) : "hello",
        _ => "v" + random.Next(1000).ToString(CultureInfo.InvariantCulture),
    };

    private static string Binary(Random random, int length)
    {
        var chars = new char[length];
        for (int i = 0; i < length; i++)
            chars[i] = (char)random.Next(256);
        return new string(chars);
    }

    /// <summary>A float in the forms INCRBYFLOAT users send: plain, negative, exponents, many digits.</summary>
    private static string Float(Random random)
    {
        switch (random.Next(7))
        {
            case 0:
                return (random.Next(-1000, 1000) / 10.0).ToString("R", CultureInfo.InvariantCulture);
            case 1:
                return new[] { "0.1", "0.2", "0.3", "-0.1", "1.1", "3.14159", "2.5", "-2.5", "0.5" }[random.Next(9)];
            case 2:
                return random.Next(1, 10) + "e" + random.Next(-20, 25);
            case 3:
                return "-" + random.Next(1, 1000) + "." + random.Next(0, 100000).ToString("D5", CultureInfo.InvariantCulture) + "E" + random.Next(-5, 5);
            case 4:
                return (random.NextDouble() * Math.Pow(10, random.Next(-10, 30))).ToString("R", CultureInfo.InvariantCulture);
            case 5:
                return "1" + new string('0', random.Next(15, 25)) + "." + random.Next(1, 9);
            default:
                return "0." + new string('0', random.Next(0, 20)) + random.Next(1, 999);
        }
    }

    private static string Int(Random random) => random.Next(12) switch
    {
        0 => "abc",
        1 => "9223372036854775808",
        2 => "-9223372036854775808",
        3 => "9223372036854775807",
        4 => "1.5",
        5 => "",
        6 => random.Next(-100, 0).ToString(CultureInfo.InvariantCulture),
        _ => random.Next(0, 40).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>A time to live SETEX and PSETEX refuse (a small positive one would expire at a moment that differs between the servers).</summary>
    private static string BadTtl(Random random) => new[] { "0", "-5", "x", "", "1.5", "9223372036854775807", "-9223372036854775808" }[random.Next(7)];

    private static string Index(Random random) => random.Next(10) switch
    {
        0 => random.Next(-300, 0).ToString(CultureInfo.InvariantCulture),
        1 => "x",
        2 => random.NextInt64(long.MinValue, long.MaxValue).ToString(CultureInfo.InvariantCulture),
        3 => random.Next(-10, 0).ToString(CultureInfo.InvariantCulture),
        _ => random.Next(0, 60).ToString(CultureInfo.InvariantCulture),
    };

    private static string BitOffset(Random random) => random.Next(12) switch
    {
        0 => "-1",
        1 => "4294967296",
        2 => "x",
        3 => "4294967296000",
        _ => random.Next(0, 300).ToString(CultureInfo.InvariantCulture),
    };

    /// <summary>Milliseconds well in the future (the test takes seconds, never this long), or a time already past.</summary>
    private static string FutureMs(Random random) => random.Next(200_000, 900_000).ToString(CultureInfo.InvariantCulture);

    private string[] NextCommand(Random random)
    {
        string k = Key(random);
        if (random.Next(30) == 0)
        {
            string writer = _collectionWriters[random.Next(_collectionWriters.Length)];
            return writer switch
            {
                "HSET" => new[] { writer, k, "f", Value(random) },
                "ZADD" => new[] { writer, k, "1", "m" },
                _ => new[] { writer, k, Value(random) },
            };
        }
        switch (random.Next(52))
        {
            case 0:
            case 1:
                return new[] { "SET", k, Value(random) };
            case 2:
                return new[] { "SET", k, Value(random), "PX", FutureMs(random) };
            case 3:
                return new[] { "GET", k };
            case 4:
                return new[] { "SETNX", k, Value(random) };
            case 5:
                return new[] { "SETEX", k, random.Next(6) == 0 ? BadTtl(random) : (200 + random.Next(500)).ToString(CultureInfo.InvariantCulture), Value(random) };
            case 6:
                return new[] { "PSETEX", k, random.Next(6) == 0 ? BadTtl(random) : FutureMs(random), Value(random) };
            case 7:
            {
                var args = new List<string> { "MGET" };
                for (int i = random.Next(1, 6); i > 0; i--)
                    args.Add(Key(random));
                return args.ToArray();
            }
            case 8:
            case 9:
            {
                var args = new List<string> { random.Next(2) == 0 ? "MSET" : "MSETNX" };
                for (int i = random.Next(1, 4); i > 0; i--)
                {
                    args.Add(Key(random));
                    args.Add(Value(random));
                }
                if (random.Next(10) == 0)
                    args.Add(Key(random)); // odd count: wrong number of arguments
                return args.ToArray();
            }
            case 10:
                return new[] { "GETSET", k, Value(random) };
            case 11:
            case 12:
                return new[] { "APPEND", k, random.Next(4) == 0 ? "" : Value(random) };
            case 13:
                return new[] { "STRLEN", k };
            case 14:
            case 15:
                return new[] { random.Next(2) == 0 ? "INCR" : "DECR", k };
            case 16:
            case 17:
                return new[] { random.Next(2) == 0 ? "INCRBY" : "DECRBY", k, random.Next(3) == 0 ? Value(random) : Int(random) };
            case 18:
            case 19:
                return new[] { "INCRBYFLOAT", k, random.Next(4) == 0 ? Value(random) : Float(random) };
            case 20:
            case 21:
                return new[] { random.Next(3) == 0 ? "SUBSTR" : "GETRANGE", k, Index(random), Index(random) };
            case 22:
                return new[] { "SETRANGE", k, random.Next(15) == 0 ? "536870912" : Index(random), random.Next(5) == 0 ? "" : Value(random) };
            case 23:
            case 24:
                return new[] { "SETBIT", k, BitOffset(random), random.Next(10) == 0 ? Int(random) : random.Next(2).ToString(CultureInfo.InvariantCulture) };
            case 25:
                return new[] { "GETBIT", k, BitOffset(random) };
            case 26:
            case 27:
            {
                var args = new List<string> { "BITCOUNT", k };
                int n = random.Next(5);
                if (n >= 1)
                    args.Add(Index(random));
                if (n >= 2)
                    args.Add(Index(random));
                if (n >= 3)
                    args.Add(new[] { "BIT", "BYTE", "bit", "bits" }[random.Next(4)]);
                if (n >= 4 && random.Next(3) == 0)
                    args.Add("extra");
                return args.ToArray();
            }
            case 28:
            case 29:
            {
                var args = new List<string> { "BITPOS", k, random.Next(8) == 0 ? Int(random) : random.Next(2).ToString(CultureInfo.InvariantCulture) };
                int n = random.Next(5);
                if (n >= 1)
                    args.Add(Index(random));
                if (n >= 2)
                    args.Add(Index(random));
                if (n >= 3)
                    args.Add(new[] { "BIT", "BYTE", "byte", "bytes" }[random.Next(4)]);
                if (n >= 4 && random.Next(3) == 0)
                    args.Add("extra");
                return args.ToArray();
            }
            case 30:
            {
                var args = new List<string> { "BITOP", new[] { "AND", "OR", "XOR", "NOT", "not", "nand" }[random.Next(6)], Key(random) };
                for (int i = random.Next(1, 4); i > 0; i--)
                    args.Add(Key(random));
                return args.ToArray();
            }
            case 31:
                return new[] { random.Next(2) == 0 ? "DEL" : "EXISTS", k, Key(random) };
            case 32:
                return new[] { "TYPE", k };
            case 33:
                return new[] { random.Next(2) == 0 ? "RENAME" : "RENAMENX", k, random.Next(6) == 0 ? k : Key(random) };
            case 34:
                return new[] { "MOVE", k, new[] { "1", "1", "1", "0", "16", "-1", "x" }[random.Next(7)] };
            case 35:
            case 36:
            {
                string name = new[] { "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT" }[random.Next(4)];
                string when = random.Next(8) switch
                {
                    0 => "-1",
                    1 => "0",
                    2 => "x",
                    3 => "9223372036854775807",
                    _ => name switch
                    {
                        "EXPIRE" => (200 + random.Next(1000)).ToString(CultureInfo.InvariantCulture),
                        "PEXPIRE" => FutureMs(random),
                        "EXPIREAT" => (4_102_444_800L + random.Next(1000)).ToString(CultureInfo.InvariantCulture),
                        _ => (4_102_444_800_000L + random.Next(1_000_000)).ToString(CultureInfo.InvariantCulture),
                    },
                };
                var args = new List<string> { name, k, when };
                if (random.Next(3) == 0)
                    args.Add(new[] { "NX", "XX", "GT", "LT", "nx", "gt", "foo" }[random.Next(7)]);
                if (random.Next(8) == 0)
                    args.Add(new[] { "NX", "XX", "GT", "LT" }[random.Next(4)]);
                return args.ToArray();
            }
            case 37:
            case 38:
                return new[] { random.Next(2) == 0 ? "TTL" : "PTTL", k };
            case 39:
                return new[] { "PERSIST", k };
            case 40:
                return new[] { "KEYS", new[] { "*", "k*", "k[0-3]", "?", "*1*", "\\{a\\}", "" }[random.Next(7)] };
            case 41:
            {
                var args = new List<string> { "SCAN", "0" };
                if (random.Next(2) == 0)
                    args.AddRange(new[] { "MATCH", new[] { "*", "k*", "k[2-5]", "*a*" }[random.Next(4)] });
                if (random.Next(2) == 0)
                    args.AddRange(new[] { "COUNT", new[] { "1", "2", "5", "100" }[random.Next(4)] });
                if (random.Next(3) == 0)
                    args.AddRange(new[] { "TYPE", new[] { "string", "STRING", "list", "set", "hash", "zset", "nosuch" }[random.Next(7)] });
                return args.ToArray();
            }
            case 42:
                return new[] { "SCAN", "0", new[] { "COUNT", "MATCH", "TYPE", "FOO" }[random.Next(4)], new[] { "0", "-1", "x", "5" }[random.Next(4)] };
            case 43:
                return new[] { "RANDOMKEY" };
            case 44:
                return new[] { "OBJECT", new[] { "REFCOUNT", "FREQ", "NOSUCH", "help", "ENCODING", "encoding" }[random.Next(6)], k };
            case 45:
                return random.Next(2) == 0 ? new[] { "OBJECT", "ENCODING" } : new[] { "OBJECT", "HELP" };
            case 46:
                return new[] { "DBSIZE" };
            case 47:
                return random.Next(3) switch
                {
                    0 => new[] { "INCRBY", k },
                    1 => new[] { "GETRANGE", k, "0" },
                    _ => new[] { "SETEX", k, "10" },
                };
            case 48:
                return new[] { "BITCOUNT", k, "0" };
            case 49:
                return new[] { "SET", k, Value(random), "EX", (300 + random.Next(100)).ToString(CultureInfo.InvariantCulture), "NX" };
            case 50:
                return new[] { "GET", "{a}" };
            default:
                return new[] { "EXISTS", k };
        }
    }
}
