using System.Globalization;
using System.Text;

namespace Psyncd.Persistence;

/// <summary>The kinds of file a multi-part AOF's manifest lists (Redis 7.0's letters).</summary>
public enum AofFileType
{
    Base = 'b',
    History = 'h',
    Incr = 'i',
}

/// <summary>
/// One line of the manifest: Redis's three keys (<c>file</c>, <c>seq</c>, <c>type</c>), plus psyncd's facts in keys
/// redis-server skips (it reads the three it knows from each pair and ignores the rest, for forward compatibility).
/// </summary>
/// <param name="StartOffset">For an incremental (or history) file: the stream offset just before its first stream byte, so that
/// the byte at position <c>Skip + i</c> of the file is stream offset <c>StartOffset + 1 + i</c>. For a base: the offset its data is at.
/// -1 when unknown (a directory written by redis-server).</param>
/// <param name="ReplId">The replication id in effect when the line was last written (null when unknown).</param>
/// <param name="Skip">Bytes at the start of an incremental file that are not part of the stream: a SELECT that puts a loader in the
/// stream's database, written when the file began in the middle of a stream that had selected one.</param>
public sealed record AofFileInfo(string Name, long Seq, AofFileType Type, long StartOffset = -1, string? ReplId = null, int Skip = 0);

/// <summary>Thrown when a manifest cannot be read; the message is redis-server's for the same fault.</summary>
public sealed class AofManifestException(int line, string text, string message) : Exception(message)
{
    /// <summary>1-based line of the fault, 0 when it concerns the whole file.</summary>
    public int Line { get; } = line;

    public string Text { get; } = text;
}

/// <summary>
/// The manifest of Redis 7.0's multi-part AOF (<c>&lt;appendfilename&gt;.manifest</c>): at most one base, the history
/// files, then the incremental files in increasing sequence, one line each.
/// </summary>
public sealed class AofManifest
{
    private const string OffsetKey = "psyncd-offset";
    private const string ReplIdKey = "psyncd-replid";
    private const string SkipKey = "psyncd-skip";

    public AofFileInfo? Base { get; set; }

    /// <summary>Former files kept for PSYNC (oldest first); redis-server deletes them when it loads the directory.</summary>
    public List<AofFileInfo> History { get; } = new();

    /// <summary>The incremental files, oldest first: the last one is the one being appended to.</summary>
    public List<AofFileInfo> Incr { get; } = new();

    /// <summary>The sequence number of the last base and of the last incremental file named so far.</summary>
    public long BaseSeq { get; set; }

    public long IncrSeq { get; set; }

    /// <summary>Every line in the order Redis writes them: base, history, incremental.</summary>
    public string Format()
    {
        var sb = new StringBuilder();
        if (Base is not null)
            Line(sb, Base);
        foreach (var file in History)
            Line(sb, file);
        foreach (var file in Incr)
            Line(sb, file);
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, AofFileInfo f)
    {
        sb.Append("file ").Append(f.Name).Append(" seq ").Append(f.Seq.ToString(CultureInfo.InvariantCulture))
          .Append(" type ").Append((char)f.Type);
        if (f.StartOffset >= 0)
            sb.Append(' ').Append(OffsetKey).Append(' ').Append(f.StartOffset.ToString(CultureInfo.InvariantCulture));
        if (f.ReplId is not null)
            sb.Append(' ').Append(ReplIdKey).Append(' ').Append(f.ReplId);
        if (f.Skip > 0)
            sb.Append(' ').Append(SkipKey).Append(' ').Append(f.Skip.ToString(CultureInfo.InvariantCulture));
        sb.Append('\n');
    }

    /// <summary>Reads a manifest with redis-server's rules (the same faults refused, with its messages).</summary>
    public static AofManifest Parse(string text)
    {
        var manifest = new AofManifest();
        long maxIncrSeq = 0;
        var lines = text.Split('\n');
        int count = lines.Length;
        if (count > 0 && lines[^1].Length == 0)
            count--;
        if (count == 0)
            throw new AofManifestException(0, "", "Found an empty AOF manifest");
        for (int n = 0; n < count; n++)
        {
            string raw = lines[n];
            if (raw.StartsWith('#'))
                continue;
            string line = raw.Trim(' ', '\t', '\r');
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (line.Length == 0 || parts.Length < 6 || parts.Length % 2 != 0)
                throw new AofManifestException(n + 1, line, "Invalid AOF manifest file format");
            string? name = null;
            long seq = 0;
            char type = '\0';
            long offset = -1;
            string? replId = null;
            int skip = 0;
            for (int i = 0; i < parts.Length; i += 2)
            {
                string key = parts[i], value = parts[i + 1];
                if (key.Equals("file", StringComparison.OrdinalIgnoreCase))
                {
                    if (value.Contains('/'))
                        throw new AofManifestException(n + 1, line, "File can't be a path, just a filename");
                    name = value;
                }
                else if (key.Equals("seq", StringComparison.OrdinalIgnoreCase))
                {
                    _ = long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out seq);
                }
                else if (key.Equals("type", StringComparison.OrdinalIgnoreCase))
                {
                    type = value[0];
                }
                else if (key == OffsetKey)
                {
                    _ = long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out offset);
                }
                else if (key == ReplIdKey)
                {
                    replId = value;
                }
                else if (key == SkipKey)
                {
                    _ = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out skip);
                }
            }
            if (name is null || seq == 0 || type == '\0')
                throw new AofManifestException(n + 1, line, "Invalid AOF manifest file format");
            var info = new AofFileInfo(name, seq, (AofFileType)type, offset, replId, skip);
            switch (type)
            {
                case 'b':
                    if (manifest.Base is not null)
                        throw new AofManifestException(n + 1, line, "Found duplicate base file information");
                    manifest.Base = info;
                    manifest.BaseSeq = seq;
                    break;
                case 'h':
                    manifest.History.Add(info);
                    break;
                case 'i':
                    if (seq <= maxIncrSeq)
                        throw new AofManifestException(n + 1, line, "Found a non-monotonic sequence number");
                    manifest.Incr.Add(info);
                    manifest.IncrSeq = maxIncrSeq = seq;
                    break;
                default:
                    throw new AofManifestException(n + 1, line, "Unknown AOF file type");
            }
        }
        // History files keep their numbers: new incremental files must not reuse them.
        foreach (var h in manifest.History)
        {
            if (IsIncrName(h.Name))
                manifest.IncrSeq = Math.Max(manifest.IncrSeq, h.Seq);
            else
                manifest.BaseSeq = Math.Max(manifest.BaseSeq, h.Seq);
        }
        return manifest;
    }

    /// <summary>True for an incremental file's name (<c>&lt;prefix&gt;.&lt;seq&gt;.incr.aof</c>).</summary>
    public static bool IsIncrName(string name) => name.EndsWith(".incr.aof", StringComparison.Ordinal);

    /// <summary>Redis's names: <c>&lt;appendfilename&gt;.&lt;seq&gt;.base.rdb</c> (or <c>.base.aof</c>) and <c>.&lt;seq&gt;.incr.aof</c>.</summary>
    public static string BaseName(string prefix, long seq, bool rdb) => prefix + "." + seq.ToString(CultureInfo.InvariantCulture) + ".base" + (rdb ? ".rdb" : ".aof");

    public static string IncrName(string prefix, long seq) => prefix + "." + seq.ToString(CultureInfo.InvariantCulture) + ".incr.aof";
}
