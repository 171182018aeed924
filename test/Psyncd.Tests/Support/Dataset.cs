using System.Text;

namespace Psyncd.Tests.Support;

/// <summary>
/// A canonical text of a server's whole dataset, read over the protocol (works the same for psyncd and
/// redis-server): every key of every database with its type, value (unordered collections sorted) and
/// whether it has a time to live. Two servers hold equal data iff their texts are equal.
/// </summary>
public static class Dataset
{
    /// <param name="hyperLogLogsByRegisters">
    /// Describe a HyperLogLog by its registers rather than its bytes: psyncd and redis-server encode the
    /// same registers differently (dense or sparse, and the cached count), so a mix of the two compares
    /// what the values mean.
    /// </param>
    public static string Describe(int port, int databases = 16, bool hyperLogLogsByRegisters = false)
    {
        using var client = new RawClient(port);
        var sb = new StringBuilder();
        for (int db = 0; db < databases; db++)
        {
            if (client.Call("SELECT", db.ToString()) is RespError)
                break;
            var keys = ((object?[])client.Call("KEYS", "*")!).Select(k => (string)k!).OrderBy(k => k, StringComparer.Ordinal).ToList();
            foreach (var key in keys)
            {
                string type = (string)client.Call("TYPE", key)!;
                string value = type switch
                {
                    "string" => DescribeString((string?)client.Call("GET", key), hyperLogLogsByRegisters),
                    "list" => Join(client.Call("LRANGE", key, "0", "-1"), sort: false),
                    "set" => Join(client.Call("SMEMBERS", key), sort: true),
                    "zset" => Join(client.Call("ZRANGE", key, "0", "-1", "WITHSCORES"), sort: false),
                    "hash" => JoinPairs(client.Call("HGETALL", key)),
                    _ => "?",
                };
                bool volatileKey = (long)client.Call("PTTL", key)! >= 0;
                sb.Append(db).Append(' ').Append(type).Append(' ').Append(key).Append(" = ").Append(value)
                  .Append(volatileKey ? " (ttl)" : "").Append('\n');
            }
        }
        return sb.ToString();
    }

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
