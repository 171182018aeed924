using System.Globalization;

namespace Psyncd.Config;

/// <summary>Parsing and formatting of redis.conf value syntaxes: yes/no, integers, memory sizes.</summary>
public static class ConfigValues
{
    /// <summary>Parses <c>yes</c>/<c>no</c> (any case), or throws with redis-server's message.</summary>
    public static bool ParseBool(string text)
    {
        if (text.Equals("yes", StringComparison.OrdinalIgnoreCase))
            return true;
        if (text.Equals("no", StringComparison.OrdinalIgnoreCase))
            return false;
        throw new ConfigException("argument must be 'yes' or 'no'");
    }

    public static string FormatBool(bool value) => value ? "yes" : "no";

    /// <summary>
    /// Parses a memory size the way redis-server's memtoll does: a number with an optional unit,
    /// k/m/g meaning powers of 1000 and kb/mb/gb powers of 1024, in any case. Returns false on bad syntax.
    /// </summary>
    public static bool TryParseMemory(string text, out long bytes)
    {
        bytes = 0;
        if (!SplitMemory(text, out string number, out long multiplier))
            return false;
        if (!long.TryParse(number, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            return false;
        try
        {
            bytes = checked(value * multiplier);
        }
        catch (OverflowException)
        {
            return false;
        }
        return true;
    }

    /// <summary>A memory size's number and its unit's multiplier; false for an unknown unit.</summary>
    private static bool SplitMemory(string text, out string number, out long multiplier)
    {
        text = text.Trim();
        int unitStart = text.Length;
        while (unitStart > 0 && char.IsLetter(text[unitStart - 1]))
            unitStart--;
        number = text[..unitStart];
        multiplier = text[unitStart..].ToLowerInvariant() switch
        {
            "" or "b" => 1,
            "k" => 1000,
            "kb" => 1024,
            "m" => 1000 * 1000,
            "mb" => 1024 * 1024,
            "g" => 1000L * 1000 * 1000,
            "gb" => 1024L * 1024 * 1024,
            _ => 0,
        };
        return multiplier != 0;
    }

    /// <summary>
    /// True for digits and a unit that make more than a long: redis-server 7's memtoull reads them (as an
    /// unsigned number, saturating), so such a value is out of a directive's range, not "not a memory value".
    /// </summary>
    private static bool IsUnsignedBeyondLong(string text)
        => SplitMemory(text, out string number, out _) && number.Length > 0 && number.All(char.IsAsciiDigit);

    public static long ParseMemory(string text)
    {
        if (!TryParseMemory(text, out long bytes))
            throw new ConfigException("argument must be a memory value");
        return bytes;
    }

    /// <summary>A memory size in [<paramref name="min"/>, <paramref name="max"/>], with Redis 7's messages (negative sizes are not memory values).</summary>
    public static long ParseMemory(string text, long min, long max)
    {
        if (!TryParseMemory(text, out long bytes) || bytes < 0)
        {
            if (IsUnsignedBeyondLong(text))
                throw new ConfigException("argument must be between " + Format(min) + " and " + Format(max) + " inclusive");
            throw new ConfigException("argument must be a memory value");
        }
        if (bytes < min || bytes > max)
            throw new ConfigException("argument must be between " + Format(min) + " and " + Format(max) + " inclusive");
        return bytes;
    }

    /// <summary>
    /// Parses an integer in [<paramref name="min"/>, <paramref name="max"/>]. The messages are Redis 7's
    /// (config.c's numeric configs); <paramref name="error"/> is 2.8's message for the directive, kept for reference.
    /// </summary>
    public static long ParseLong(string text, long min = long.MinValue, long max = long.MaxValue, string? error = null)
    {
        _ = error;
        if (!long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long value))
            throw new ConfigException("argument couldn't be parsed into an integer");
        if (value < min || value > max)
            throw new ConfigException("argument must be between " + Format(min) + " and " + Format(max) + " inclusive");
        return value;
    }

    public static int ParseInt(string text, int min = int.MinValue, int max = int.MaxValue, string? error = null)
        => (int)ParseLong(text, min, max, error);

    public static string Format(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Quotes an argument for a config file line when it needs quoting (empty, blanks, quotes, control bytes).</summary>
    public static string QuoteIfNeeded(string value)
    {
        if (value.Length > 0 && value.All(c => c > ' ' && c < 127 && c != '"' && c != '\'' && c != '\\'))
            return value;
        var sb = new System.Text.StringBuilder("\"");
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\a': sb.Append("\\a"); break;
                case '\b': sb.Append("\\b"); break;
                default:
                    if (c < ' ' || c == 127)
                        sb.Append("\\x").Append(((int)c).ToString("x2", CultureInfo.InvariantCulture));
                    else
                        sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
