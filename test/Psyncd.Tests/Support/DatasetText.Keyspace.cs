using System.Globalization;
using System.Text;
using Psyncd.Storage;
using Psyncd.Storage.Types;

namespace Psyncd.Tests.Support;

/// <summary>The canonical text of an in-process keyspace (RDB and snapshot tests); values in hex.</summary>
public static partial class DatasetText
{
    /// <summary>Every key of every database as "db key => type [ttl] value", sorted: equal texts mean equal contents.</summary>
    public static SortedDictionary<string, string> Read(Keyspace keyspace)
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
                foreach (var m in entry.As<SetObject>().MemberCopies().Select(Convert.ToHexString).Order(StringComparer.Ordinal))
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
}
