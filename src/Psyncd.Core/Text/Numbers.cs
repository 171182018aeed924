using System.Buffers.Text;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Psyncd.Text;

/// <summary>Parsing and formatting of argument values, with redis-server 7's exact rules.</summary>
public static class Numbers
{
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

    /// <summary>
    /// Parses a double the way redis-server's getDoubleFromObject does (strtod, then rejecting blanks,
    /// trailing bytes, NaN, and a result out of range: overflow to infinity or a non-zero number that
    /// underflows to 0): accepts "inf", "+inf", "-inf", "infinity" in any case, exponents, and strtod's
    /// hexadecimal form ("0x10", "0x1p3").
    /// </summary>
    public static bool TryParseDouble(ReadOnlySpan<byte> text, out double value) => TryParseStrtod(text, out value, checkRange: true);

    /// <summary>
    /// strtod's whole-text conversion as Redis uses it: no leading blank, nothing left over, not NaN; with
    /// <paramref name="checkRange"/>, a result out of range (ERANGE) is refused too, else it is ±inf or 0
    /// as strtod returns it (zslParseRange does not look at errno).
    /// </summary>
    public static bool TryParseStrtod(ReadOnlySpan<byte> text, out double value, bool checkRange)
    {
        value = 0;
        if (text.IsEmpty || text.Length > 5000 || text[0] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f')
            return false;
        bool negative = text[0] == (byte)'-';
        var unsigned = text[0] is (byte)'+' or (byte)'-' ? text[1..] : text;
        if (Ascii.EqualsIgnoreCase(unsigned, "inf"u8) || Ascii.EqualsIgnoreCase(unsigned, "infinity"u8))
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }
        if (unsigned.Length > 2 && unsigned[0] == (byte)'0' && (unsigned[1] | 0x20) == (byte)'x')
            return TryParseHexDouble(negative, unsigned[2..], out value) && (!checkRange || (!double.IsInfinity(value) && value != 0) || IsZeroText(unsigned[2..]));
        if (unsigned.IsEmpty || !(char.IsAsciiDigit((char)unsigned[0]) || unsigned[0] == (byte)'.'))
            return false;
        Span<char> chars = text.Length <= 256 ? stackalloc char[text.Length] : new char[text.Length];
        for (int i = 0; i < text.Length; i++)
            chars[i] = (char)text[i];
        if (!double.TryParse(chars, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value))
            return false;
        if (checkRange && (double.IsInfinity(value) || (value == 0 && !IsZeroText(unsigned))))
            return false;
        return !double.IsNaN(value);
    }

    /// <summary>True when the digits before any exponent are all zeros (a zero result is then no underflow).</summary>
    private static bool IsZeroText(ReadOnlySpan<byte> number)
    {
        int end = number.IndexOfAny((byte)'e', (byte)'p');
        if (end < 0)
            end = number.IndexOfAny((byte)'E', (byte)'P');
        var digits = end < 0 ? number : number[..end];
        return digits.IndexOfAnyExcept((byte)'0', (byte)'.') < 0;
    }

    /// <summary>strtod's hexadecimal form after "0x": hex digits, an optional fraction, an optional binary exponent "p±n".</summary>
    private static bool TryParseHexDouble(bool negative, ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        var mantissa = System.Numerics.BigInteger.Zero;
        long exponent = 0;
        int p = 0;
        bool any = false;
        for (; p < text.Length && LongDouble.HexValue(text[p]) >= 0; p++, any = true)
            mantissa = (mantissa << 4) + LongDouble.HexValue(text[p]);
        if (p < text.Length && text[p] == (byte)'.')
        {
            for (p++; p < text.Length && LongDouble.HexValue(text[p]) >= 0; p++, any = true)
            {
                mantissa = (mantissa << 4) + LongDouble.HexValue(text[p]);
                exponent -= 4;
            }
        }
        if (!any)
            return false;
        if (p < text.Length && (text[p] | 0x20) == (byte)'p')
        {
            p++;
            bool expNegative = p < text.Length && text[p] == (byte)'-';
            if (p < text.Length && text[p] is (byte)'+' or (byte)'-')
                p++;
            if (p == text.Length)
                return false;
            long e = 0;
            for (; p < text.Length && char.IsAsciiDigit((char)text[p]); p++)
                e = Math.Min(e * 10 + (text[p] - '0'), 1_000_000);
            exponent += expNegative ? -e : e;
        }
        if (p != text.Length)
            return false;
        if (mantissa.IsZero)
        {
            value = negative ? -0.0 : 0.0;
            return true;
        }
        // Round to 53 bits (to nearest, ties to even), then scale: exact unless the result is subnormal.
        long shift = (long)mantissa.GetBitLength() - 53;
        if (shift > 0)
        {
            var kept = mantissa >> (int)shift;
            var rest = mantissa - (kept << (int)shift);
            var half = System.Numerics.BigInteger.One << (int)(shift - 1);
            if (rest > half || (rest == half && !kept.IsEven))
                kept += 1;
            mantissa = kept;
            exponent += shift;
        }
        value = Math.ScaleB((double)mantissa, (int)Math.Clamp(exponent, -100_000, 100_000));
        if (negative)
            value = -value;
        return true;
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

    /// <summary>C's printf <c>"%.{precision}f"</c> (glibc: exact digits, "inf", "-inf", "nan", "-nan").</summary>
    public static string FormatFixed(double value, int precision)
    {
        if (double.IsNaN(value))
            return double.IsNegative(value) ? "-nan" : "nan";
        if (double.IsInfinity(value))
            return value < 0 ? "-inf" : "inf";
        return LongDouble.FromDouble(value).ToFixedString(precision);
    }

    /// <summary>A finite double in Redis's human-friendly long double form (addReplyHumanLongDouble: "%.17Lf", trailing zeros cut).</summary>
    public static string FormatHuman(double value) => LongDouble.FromDouble(value).ToHumanString();

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
