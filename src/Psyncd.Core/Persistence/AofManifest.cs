using System.Globalization;
using System.Text;
using Psyncd.Config;
using Psyncd.Text;

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
        sb.Append("file ").Append(NameAsWritten(f.Name)).Append(" seq ").Append(f.Seq.ToString(CultureInfo.InvariantCulture))
          .Append(" type ").Append((char)f.Type);
        if (f.StartOffset >= 0)
            sb.Append(' ').Append(OffsetKey).Append(' ').Append(f.StartOffset.ToString(CultureInfo.InvariantCulture));
        if (f.ReplId is not null)
            sb.Append(' ').Append(ReplIdKey).Append(' ').Append(f.ReplId);
        if (f.Skip > 0)
            sb.Append(' ').Append(SkipKey).Append(' ').Append(f.Skip.ToString(CultureInfo.InvariantCulture));
        sb.Append('\n');
    }

    /// <summary>Redis's MANIFEST_MAX_LINE: it reads each line with fgets into a buffer of this many bytes.</summary>
    private const int MaxLine = 1024;

    /// <summary>
    /// A file name as redis-server writes it (its sdsneedsrepr): as is, or quoted and escaped as its sdscatrepr does when it
    /// holds a blank, a quote, a backslash or a byte that is not printable ASCII, so that the line splits back into six words.
    /// A single quote is quoted too, which redis-server omits: unquoted, it opens a quoted word when the line is split, and
    /// neither server could read the manifest back.
    /// </summary>
    private static string NameAsWritten(string name)
    {
        foreach (char c in name)
        {
            if (c <= ' ' || c >= 127 || c is '"' or '\'' or '\\')
                return Repr.Quote(Encoding.UTF8.GetBytes(name));
        }
        return name;
    }

    /// <summary>Reads a manifest with redis-server 7.0's rules (the same faults refused, with its messages).</summary>
    public static AofManifest Parse(string text) => Parse(Encoding.UTF8.GetBytes(text));

    /// <summary>
    /// Reads a manifest with redis-server 7.0's rules: lines as its fgets reads them (at most 1024 bytes; a line, the last
    /// one included, that does not end in a newline within them is "too long"), comment lines skipped, each line split
    /// like a config line (quotes and escapes), keys compared case-insensitively, keys it does not know ignored (they are
    /// not written back), <c>seq</c> read as atoll reads it.
    /// </summary>
    public static AofManifest Parse(ReadOnlySpan<byte> text)
    {
        var manifest = new AofManifest();
        long maxIncrSeq = 0;
        if (text.IsEmpty)
            throw new AofManifestException(0, "", "Found an empty AOF manifest");
        int n = 0;
        while (!text.IsEmpty)
        {
            int newline = text[..Math.Min(text.Length, MaxLine)].IndexOf((byte)'\n');
            int chunkLength = newline >= 0 ? newline + 1 : Math.Min(text.Length, MaxLine);
            var chunk = text[..chunkLength];
            text = text[chunkLength..];
            n++;
            if (chunk[0] == (byte)'#')
                continue;
            if (newline < 0)
                throw new AofManifestException(0, "", "The AOF manifest file contains too long line");
            string line = Encoding.UTF8.GetString(chunk).Trim(' ', '\t', '\r', '\n');
            var parts = line.Length == 0 ? null : ConfigFileParser.SplitArgs(line);
            if (parts is null || parts.Length < 6 || parts.Length % 2 != 0)
                throw new AofManifestException(n, line, "Invalid AOF manifest file format");
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
                    if (value.Contains('/') || value.Contains('\\'))
                        throw new AofManifestException(n, line, "File can't be a path, just a filename");
                    name = value;
                }
                else if (key.Equals("seq", StringComparison.OrdinalIgnoreCase))
                {
                    seq = AtoLL(value);
                }
                else if (key.Equals("type", StringComparison.OrdinalIgnoreCase))
                {
                    type = value.Length > 0 ? value[0] : '\0';
                }
                else if (key.Equals(OffsetKey, StringComparison.OrdinalIgnoreCase))
                {
                    _ = long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out offset);
                }
                else if (key.Equals(ReplIdKey, StringComparison.OrdinalIgnoreCase))
                {
                    replId = value;
                }
                else if (key.Equals(SkipKey, StringComparison.OrdinalIgnoreCase))
                {
                    _ = int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out skip);
                }
            }
            if (name is null || seq == 0 || type == '\0')
                throw new AofManifestException(n, line, "Invalid AOF manifest file format");
            var info = new AofFileInfo(name, seq, (AofFileType)type, offset, replId, skip);
            switch (type)
            {
                case 'b':
                    if (manifest.Base is not null)
                        throw new AofManifestException(n, line, "Found duplicate base file information");
                    manifest.Base = info;
                    manifest.BaseSeq = seq;
                    break;
                case 'h':
                    manifest.History.Add(info);
                    break;
                case 'i':
                    if (seq <= maxIncrSeq)
                        throw new AofManifestException(n, line, "Found a non-monotonic sequence number");
                    manifest.Incr.Add(info);
                    manifest.IncrSeq = maxIncrSeq = seq;
                    break;
                default:
                    throw new AofManifestException(n, line, "Unknown AOF file type");
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

    /// <summary>C's atoll as glibc's does it: leading blanks, a sign, then digits up to the first other character (saturating).</summary>
    private static long AtoLL(string value)
    {
        int p = 0;
        while (p < value.Length && char.IsWhiteSpace(value[p]))
            p++;
        bool negative = false;
        if (p < value.Length && value[p] is '+' or '-')
            negative = value[p++] == '-';
        long result = 0;
        for (; p < value.Length && value[p] is >= '0' and <= '9'; p++)
        {
            int digit = value[p] - '0';
            if (result > (long.MaxValue - digit) / 10)
                return negative ? long.MinValue : long.MaxValue;
            result = result * 10 + digit;
        }
        return negative ? -result : result;
    }

    /// <summary>True for an incremental file's name (<c>&lt;prefix&gt;.&lt;seq&gt;.incr.aof</c>).</summary>
    public static bool IsIncrName(string name) => name.EndsWith(".incr.aof", StringComparison.Ordinal);

    /// <summary>Redis's names: <c>&lt;appendfilename&gt;.&lt;seq&gt;.base.rdb</c> (or <c>.base.aof</c>) and <c>.&lt;seq&gt;.incr.aof</c>.</summary>
    public static string BaseName(string prefix, long seq, bool rdb) => prefix + "." + seq.ToString(CultureInfo.InvariantCulture) + ".base" + (rdb ? ".rdb" : ".aof");

    public static string IncrName(string prefix, long seq) => prefix + "." + seq.ToString(CultureInfo.InvariantCulture) + ".incr.aof";
}
