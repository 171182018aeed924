using System.Text;

namespace Psyncd.Tests.Support;

/// <summary>
/// A canonical text of a server's whole dataset, read over the protocol (works the same for psyncd and
/// redis-server): every key of every database with its type, value (unordered collections sorted) and
/// whether it has a time to live. Two servers hold equal data iff their texts are equal.
/// </summary>
public static class Dataset
{
    public static string Describe(int port, int databases = 16)
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
                    "string" => (string?)client.Call("GET", key) ?? "(nil)",
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
