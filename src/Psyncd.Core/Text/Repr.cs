using System.Globalization;
using System.Text;

namespace Psyncd.Text;

/// <summary>Bytes as redis-server quotes them in log lines and MONITOR (its sdscatrepr).</summary>
public static class Repr
{
    /// <summary>Quotes bytes as redis-server's sdscatrepr does: "..." with \n \r \t \a \b \\ \" and \xHH escapes.</summary>
    public static string Quote(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length + 2);
        sb.Append('"');
        foreach (byte b in bytes)
        {
            switch (b)
            {
                case (byte)'\\': sb.Append("\\\\"); break;
                case (byte)'"': sb.Append("\\\""); break;
                case (byte)'\n': sb.Append("\\n"); break;
                case (byte)'\r': sb.Append("\\r"); break;
                case (byte)'\t': sb.Append("\\t"); break;
                case 7: sb.Append("\\a"); break;
                case 8: sb.Append("\\b"); break;
                default:
                    if (b >= 32 && b < 127)
                        sb.Append((char)b);
                    else
                        sb.Append("\\x").Append(b.ToString("x2", CultureInfo.InvariantCulture));
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
