using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Psyncd.Commands;

/// <summary>Parsing and formatting of argument values, with redis-server 7's exact rules.</summary>
public static class Args
{
    /// <summary>Case-insensitive comparison of an argument with an ASCII keyword (<c>"NX"u8</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Is(ReadOnlySpan<byte> arg, ReadOnlySpan<byte> keyword) => Ascii.EqualsIgnoreCase(arg, keyword);

    /// <summary>
    /// Parses a 64-bit integer the way redis-server's string2ll does: optional '-', digits, no '+', no
    /// blanks, no leading zeros (but "0"), within range.
    /// </summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 20)
            return false;
        if (text.Length == 1 && text[0] == (byte)'0')
            return true;
        int p = 0;
        if (text[0] == (byte)'-')
        {
            p = 1;
            if (text.Length == 1)
                return false;
        }
        if (text[p] < (byte)'1' || text[p] > (byte)'9')
            return false;
        return Utf8Parser.TryParse(text, out value, out int used) && used == text.Length;
    }

    /// <summary>Parses an integer that must fit in 32 bits (string2l's rule, as for LINDEX's index).</summary>
    public static bool TryParseInt32(ReadOnlySpan<byte> text, out int value)
    {
        value = 0;
        if (!TryParseInt64(text, out long v) || v < int.MinValue || v > int.MaxValue)
            return false;
        value = (int)v;
        return true;
    }

    /// <summary>
    /// Parses a double the way redis-server does (strtod, then rejecting blanks, trailing bytes, and NaN):
    /// accepts "inf", "+inf", "-inf", "infinity" in any case, and exponents.
    /// </summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 5000 || text[0] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f')
            return false;
        var unsigned = text[0] is (byte)'+' or (byte)'-' ? text[1..] : text;
        if (Ascii.EqualsIgnoreCase(unsigned, "inf"u8) || Ascii.EqualsIgnoreCase(unsigned, "infinity"u8))
        {
            value = text[0] == (byte)'-' ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }
        if (unsigned.IsEmpty || !(char.IsAsciiDigit((char)unsigned[0]) || unsigned[0] == (byte)'.'))
            return false;
        Span<char> chars = text.Length <= 256 ? stackalloc char[text.Length] : new char[text.Length];
        for (int i = 0; i < text.Length; i++)
            chars[i] = (char)text[i];
        if (!double.TryParse(chars, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value))
            return false;
        return !double.IsNaN(value);
    }

    /// <summary>
    /// Formats a double as redis-server 7.0 replies with it (C's "%.17g"; "inf" and "-inf" for infinities).
    /// </summary>
    public static string FormatDouble(double value)
    {
        if (double.IsPositiveInfinity(value))
            return "inf";
        if (double.IsNegativeInfinity(value))
            return "-inf";
        return FormatG(value, 17);
    }

    /// <summary>C's printf "%.{precision}g" for a finite double.</summary>
    public static string FormatG(double value, int precision)
    {
        if (value == 0)
            return double.IsNegative(value) ? "-0" : "0";
        // Round to `precision` significant digits, then lay the digits out as %g does.
        string e = value.ToString("E" + (precision - 1), CultureInfo.InvariantCulture); // d.dddE+xxx
        int ePos = e.IndexOf('E');
        int exponent = int.Parse(e.AsSpan(ePos + 1), CultureInfo.InvariantCulture);
        bool negative = e[0] == '-';
        string digits = e[(negative ? 1 : 0)..ePos].Replace(".", "");
        digits = digits.TrimEnd('0');
        if (digits.Length == 0)
            digits = "0";
        var sb = new StringBuilder(32);
        if (negative)
            sb.Append('-');
        if (exponent < -4 || exponent >= precision)
        {
            sb.Append(digits[0]);
            if (digits.Length > 1)
                sb.Append('.').Append(digits, 1, digits.Length - 1);
            sb.Append('e').Append(exponent < 0 ? '-' : '+');
            int abs = Math.Abs(exponent);
            if (abs < 10)
                sb.Append('0');
            sb.Append(abs.ToString(CultureInfo.InvariantCulture));
        }
        else if (exponent < 0)
        {
            sb.Append("0.").Append('0', -exponent - 1).Append(digits);
        }
        else if (digits.Length <= exponent + 1)
        {
            sb.Append(digits).Append('0', exponent + 1 - digits.Length);
        }
        else
        {
            sb.Append(digits, 0, exponent + 1).Append('.').Append(digits, exponent + 1, digits.Length - exponent - 1);
        }
        return sb.ToString();
    }

    /// <summary>Decimal text of <paramref name="value"/> as bytes, for replies and stored values.</summary>
    public static int FormatInt64(long value, Span<byte> destination)
    {
        Utf8Formatter.TryFormat(value, destination, out int written);
        return written;
    }
}
