using System.Globalization;

namespace Psyncd.Rdb;

/// <summary>
/// A point of a replication history, as an RDB records it in its AUX fields (Redis 4.0+): the history's id
/// (<c>repl-id</c>), the stream offset the file's data is at (<c>repl-offset</c>), and the database the stream
/// is in there (<c>repl-stream-db</c>), so that a replica starting from the file needs no SELECT.
/// </summary>
public readonly record struct ReplicationPoint(string ReplId, long Offset, int StreamDb)
{
    /// <summary>
    /// The point the AUX fields of a file record, or null when they record none that can be trusted: a field
    /// missing, an id that is not 40 characters, or a negative database (Redis 4.0 could save -1 by mistake).
    /// </summary>
    public static ReplicationPoint? FromAux(IReadOnlyDictionary<string, string> aux)
    {
        if (!aux.TryGetValue("repl-id", out var replId) || replId.Length != 40
            || !aux.TryGetValue("repl-offset", out var offsetText) || !long.TryParse(offsetText, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long offset)
            || !aux.TryGetValue("repl-stream-db", out var dbText) || !int.TryParse(dbText, NumberStyles.None, CultureInfo.InvariantCulture, out int db))
            return null;
        return new ReplicationPoint(replId, offset, db);
    }
}
