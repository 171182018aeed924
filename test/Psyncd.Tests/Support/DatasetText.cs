using System.Text;

namespace Psyncd.Tests.Support;

/// <summary>
/// The canonical text of a dataset, the one way tests compare two datasets. Over the protocol (psyncd and
/// redis-server alike): every key of every database with its type, its value (unordered collections sorted)
/// and its time to live, either as presence (<see cref="Describe"/>: equal texts mean equal data) or as an
/// absolute expiry in seconds compared with a tolerance (<see cref="Read"/> and <see cref="AssertSame"/>: a
/// dump saved on one server and loaded by another). In process, <c>Read(Keyspace)</c> reads a keyspace.
/// </summary>
public static partial class DatasetText
{
    /// <summary>"db type key = value[ (ttl)]" per key, keys sorted in each database.</summary>
    /// <param name="hyperLogLogsByRegisters">
    /// Describe a HyperLogLog by its registers rather than its bytes: what the value means, whatever its
    /// encoding and cached count (psyncd and redis-server hold the same bytes after the same commands; a
    /// HyperLogLog written by some other program may encode the same registers differently).
    /// </param>
    public static string Describe(int port, int databases = 16, bool hyperLogLogsByRegisters = false)
    {
        using var client = new RawClient(port);
        var sb = new StringBuilder();
        foreach (var (db, key, type) in Keys(client, databases))
        {
            string value = Value(client, type, key, hyperLogLogsByRegisters);
            bool volatileKey = (long)client.Call("PTTL", key)! >= 0;
            sb.Append(db).Append(' ').Append(type).Append(' ').Append(key).Append(" = ").Append(value)
              .Append(volatileKey ? " (ttl)" : "").Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>"db key" => "type expiry value" for every key, the expiry as <c>at:&lt;unix seconds&gt;</c> or -1 (see <see cref="AssertSame"/>).</summary>
    public static SortedDictionary<string, string> Read(RawClient client, int databases = 16)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (db, key, type) in Keys(client, databases))
        {
            long pttl = (long)client.Call("PTTL", key)!;
            // Expiries are compared as absolute times, with a tolerance (see AssertSame): saving, loading and
            // reading take a moment, but the instant a key expires must not move.
            string ttl = pttl < 0 ? pttl.ToString() : "at:" + (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + pttl) / 1000;
            result.Add(db + " " + key, type + " " + ttl + " " + Value(client, type, key, hyperLogLogsByRegisters: false));
        }
        client.Call("SELECT", "0");
        return result;
    }

    /// <summary>Asserts two readings are equal, allowing expiry instants to differ by a few seconds.</summary>
    public static void AssertSame(IDictionary<string, string> expected, IDictionary<string, string> actual)
    {
        Assert.That(actual.Keys.Order(StringComparer.Ordinal), Is.EqualTo(expected.Keys.Order(StringComparer.Ordinal)));
        foreach (var (key, value) in expected)
        {
            var e = value.Split(' ', 3);
            var a = actual[key].Split(' ', 3);
            Assert.That(a[0], Is.EqualTo(e[0]), key + " type");
            Assert.That(a.Length > 2 ? a[2] : "", Is.EqualTo(e.Length > 2 ? e[2] : ""), key + " value");
            if (e[1].StartsWith("at:", StringComparison.Ordinal) && a[1].StartsWith("at:", StringComparison.Ordinal))
                Assert.That(long.Parse(a[1][3..]), Is.EqualTo(long.Parse(e[1][3..])).Within(5), key + " expiry");
            else
                Assert.That(a[1], Is.EqualTo(e[1]), key + " expiry");
        }
    }

    /// <summary>Every key of each database that exists (psyncd may have fewer than 16), sorted, with its type.</summary>
    private static IEnumerable<(int Db, string Key, string Type)> Keys(RawClient client, int databases)
    {
        for (int db = 0; db < databases; db++)
        {
            if (client.Call("SELECT", db.ToString()) is RespError)
                yield break;
            var keys = ((object?[])client.Call("KEYS", "*")!).Select(k => (string)k!).OrderBy(k => k, StringComparer.Ordinal).ToList();
            foreach (var key in keys)
                yield return (db, key, (string)client.Call("TYPE", key)!);
        }
    }

    private static string Value(RawClient client, string type, string key, bool hyperLogLogsByRegisters) => type switch
    {
        "string" => DescribeString((string?)client.Call("GET", key), hyperLogLogsByRegisters),
        "list" => Join(client.Call("LRANGE", key, "0", "-1"), sort: false),
        "set" => Join(client.Call("SMEMBERS", key), sort: true),
        "zset" => Join(client.Call("ZRANGE", key, "0", "-1", "WITHSCORES"), sort: false),
        "hash" => JoinPairs(client.Call("HGETALL", key)),
        _ => "?",
    };

    private static string DescribeString(string? value, bool hyperLogLogsByRegisters)
    {
        if (value is null)
            return "(nil)";
        if (hyperLogLogsByRegisters && HyperLogLogRegisters(value) is { } registers)
            return "HLL{" + string.Join(",", registers.Select((r, i) => (r, i)).Where(x => x.r != 0).Select(x => x.i + ":" + x.r)) + "}";
        return value;
    }

    /// <summary>
    /// The 16384 six-bit registers of a HyperLogLog string (header "HYLL", encoding byte, 3 unused, 8 of
    /// cached count; then dense: registers packed little-endian 6 bits each; sparse: ZERO 00xxxxxx,
    /// XZERO 01xxxxxx yyyyyyyy, VAL 1vvvvvxx runs), or null when the string is not a valid one.
    /// </summary>
    private static byte[]? HyperLogLogRegisters(string value)
    {
        const int count = 16384, header = 16;
        if (value.Length < header || !value.StartsWith("HYLL", StringComparison.Ordinal))
            return null;
        var registers = new byte[count];
        if (value[4] == 0)
        {
            if (value.Length != header + count * 6 / 8)
                return null;
            for (int i = 0; i < count; i++)
            {
                int bit = i * 6, b0 = value[header + bit / 8], b1 = header + bit / 8 + 1 < value.Length ? value[header + bit / 8 + 1] : 0;
                registers[i] = (byte)(((b0 >> (bit % 8)) | (b1 << (8 - bit % 8))) & 63);
            }
            return registers;
        }
        int index = 0;
        for (int pos = header; pos < value.Length; pos++)
        {
            int op = value[pos];
            if ((op & 0xC0) == 0)
                index += (op & 63) + 1;
            else if ((op & 0xC0) == 0x40)
            {
                if (++pos >= value.Length)
                    return null;
                index += (((op & 63) << 8) | value[pos]) + 1;
            }
            else
            {
                int run = (op & 3) + 1, v = ((op >> 2) & 31) + 1;
                if (index + run > count)
                    return null;
                for (int i = 0; i < run; i++)
                    registers[index++] = (byte)v;
            }
            if (index > count)
                return null;
        }
        return index == count ? registers : null;
    }

    private static string Join(object? reply, bool sort)
    {
        var items = ((object?[])reply!).Select(i => (string)i!);
        if (sort)
            items = items.OrderBy(i => i, StringComparer.Ordinal);
        return "[" + string.Join(",", items) + "]";
    }

    private static string JoinPairs(object? reply)
    {
        var items = (object?[])reply!;
        var pairs = new List<string>();
        for (int i = 0; i + 1 < items.Length; i += 2)
            pairs.Add((string)items[i]! + ":" + (string)items[i + 1]!);
        pairs.Sort(StringComparer.Ordinal);
        return "{" + string.Join(",", pairs) + "}";
    }
}
