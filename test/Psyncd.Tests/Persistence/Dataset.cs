using System.Globalization;
using System.Text;
using Psyncd.Rdb;
using Psyncd.Storage;
using Psyncd.Storage.Types;

namespace Psyncd.Tests.Persistence;

/// <summary>In-process keyspaces for RDB tests: a canonical text of every key, and RDB bytes in and out.</summary>
internal static class Dataset
{
    public static Keyspace NewKeyspace() => new(StoreSettings.Small, 16);

    /// <summary>Every key of every database as "db key => type [ttl] value", sorted: equal texts mean equal contents.</summary>
    public static SortedDictionary<string, string> Canonical(Keyspace keyspace)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        for (int db = 0; db < keyspace.DatabaseCount; db++)
        {
            int d = db;
            keyspace.ForEachKey(db, (ReadOnlySpan<byte> key, in Entry entry) =>
                result.Add(d + " " + Convert.ToHexString(key), Describe(entry)));
        }
        return result;
    }

    public static string Describe(in Entry entry)
    {
        var sb = new StringBuilder();
        sb.Append(entry.Kind).Append(" ttl=").Append(entry.ExpireAt).Append(' ');
        switch (entry.Kind)
        {
            case ValueKind.String:
                sb.Append(Convert.ToHexString(entry.String));
                break;
            case ValueKind.List:
                foreach (var item in entry.As<ListObject>().Items)
                    sb.Append(Convert.ToHexString(item)).Append(',');
                break;
            case ValueKind.Set:
                foreach (var m in entry.As<SetObject>().Members.Select(Convert.ToHexString).Order(StringComparer.Ordinal))
                    sb.Append(m).Append(',');
                break;
            case ValueKind.SortedSet:
                foreach (var (m, s) in entry.As<SortedSetObject>().Entries)
                    sb.Append(Convert.ToHexString(m)).Append('=').Append(s.ToString("R", CultureInfo.InvariantCulture)).Append(',');
                break;
            case ValueKind.Hash:
                foreach (var f in entry.As<HashObject>().Entries.Select(e => Convert.ToHexString(e.Key) + "=" + Convert.ToHexString(e.Value)).Order(StringComparer.Ordinal))
                    sb.Append(f).Append(',');
                break;
        }
        return sb.ToString();
    }

    /// <summary>The whole keyspace as an RDB, written the way SAVE does.</summary>
    public static byte[] Save(Keyspace keyspace, bool compress = true, bool checksum = true)
    {
        var stream = new MemoryStream();
        var output = new RdbOutput(stream);
        var writer = new RdbWriter(compress);
        writer.WriteHeader(new RdbHeader("7.0.15", 1700000000, 1000000));
        keyspace.BeginSnapshot(new DirectRdbSink(writer, output));
        while (!keyspace.ContinueSnapshot(1000))
        {
        }
        writer.WriteEof();
        writer.FlushTo(output);
        output.WriteChecksum(checksum);
        return stream.ToArray();
    }

    public static RdbReader Load(Keyspace keyspace, byte[] rdb, bool dropExpired = true)
    {
        var reader = new RdbReader(new MemoryStream(rdb, writable: false));
        reader.Load(keyspace, keyspace.NowMs, dropExpired);
        return reader;
    }

    public static byte[] B(string s) => Encoding.UTF8.GetBytes(s);
}
