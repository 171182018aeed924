using System.Globalization;
using System.Numerics;
using System.Text;

namespace Psyncd.Commands;

/// <summary>
/// Exact emulation of the x87 80-bit <c>long double</c> arithmetic redis-server uses for HINCRBYFLOAT (and
/// INCRBYFLOAT): text is parsed as strtold does (correctly rounded to a 64-bit mantissa), sums are rounded
/// to nearest-even, and results are printed as <c>%.17Lf</c> with trailing zeros removed (Redis's
/// LD_STR_HUMAN). So "0.1" + "0.2" gives "0.3", and "1000000.1" gives "1000000.10000000000002274", as Redis does.
/// </summary>
internal static class LongDoubleText
{
    /// <summary>A finite value: sign × mantissa × 2^exponent, mantissa below 2^64.</summary>
    internal readonly record struct Value(bool Negative, BigInteger Mantissa, int Exponent)
    {
        public bool IsZero => Mantissa.IsZero;
    }

    private const int MaxExponent = 16384; // values must stay below 2^16384
    private const int MinExponent = -16445; // below the smallest subnormal: underflow

    private static readonly BigInteger s_two64 = BigInteger.One << 64;
    private static readonly BigInteger s_two63 = BigInteger.One << 63;
    private static readonly BigInteger s_tenPow17 = BigInteger.Pow(10, 17);

    /// <summary>
    /// Parses as Redis's string2ld: false for anything it rejects (blanks, trailing bytes, NaN, overflow,
    /// underflow to zero). <paramref name="infinite"/> is set for "inf"/"infinity" (which string2ld accepts).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out Value value, out bool infinite)
    {
        value = default;
        infinite = false;
        if (IsHex(text))
            return TryParseHex(text, out value);
        if (!Args.TryParseDouble(text, out _))
            return false;
        int p = 0;
        bool negative = false;
        if (text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == (byte)'-';
            p = 1;
        }
        if (p < text.Length && (text[p] | 0x20) == 'i')
        {
            infinite = true;
            value = new Value(negative, BigInteger.Zero, 0);
            return true;
        }
        BigInteger digits;
        long scale = 0;
        bool seenPoint = false;
        bool anyDigit = false;
        var chunk = new StringBuilder();
        for (; p < text.Length; p++)
        {
            byte c = text[p];
            if (c >= (byte)'0' && c <= (byte)'9')
            {
                chunk.Append((char)c);
                anyDigit = true;
                if (seenPoint)
                    scale--;
            }
            else if (c == (byte)'.' && !seenPoint)
            {
                seenPoint = true;
            }
            else
            {
                break;
            }
        }
        if (!anyDigit)
            return false;
        digits = BigInteger.Parse(chunk.ToString(), CultureInfo.InvariantCulture);
        if (p < text.Length)
        {
            // Exponent: e[+-]digits (TryParseDouble already vetted the syntax).
            p++;
            bool expNegative = false;
            if (text[p] is (byte)'+' or (byte)'-')
            {
                expNegative = text[p] == (byte)'-';
                p++;
            }
            long exp = 0;
            for (; p < text.Length; p++)
            {
                exp = Math.Min(exp * 10 + (text[p] - '0'), 1_000_000_000);
            }
            scale += expNegative ? -exp : exp;
        }
        if (digits.IsZero)
        {
            value = new Value(negative, BigInteger.Zero, 0);
            return true;
        }
        // Quick range checks before building huge numbers: |value| is within [10^(scale), 10^(scale+ndigits)).
        int ndigits = chunk.Length;
        if (scale + ndigits > 4934)
            return false;
        if (scale + ndigits < -4952)
            return false;
        BigInteger num = digits;
        BigInteger den = BigInteger.One;
        if (scale >= 0)
            num *= BigInteger.Pow(10, (int)scale);
        else
            den = BigInteger.Pow(10, (int)-scale);
        if (!TryRound(negative, num, den, 0, out value))
            return false;
        return true;
    }

    private static bool IsHex(ReadOnlySpan<byte> text)
    {
        int p = text.Length > 0 && text[0] is (byte)'+' or (byte)'-' ? 1 : 0;
        return text.Length > p + 1 && text[p] == (byte)'0' && (text[p + 1] | 0x20) == 'x';
    }

    /// <summary>strtold's hexadecimal form: 0x, hex digits with an optional point, an optional p-exponent (power of two).</summary>
    private static bool TryParseHex(ReadOnlySpan<byte> text, out Value value)
    {
        value = default;
        int p = 0;
        bool negative = false;
        if (text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == (byte)'-';
            p = 1;
        }
        p += 2;
        BigInteger mantissa = BigInteger.Zero;
        long exponent = 0;
        bool anyDigit = false;
        bool seenPoint = false;
        for (; p < text.Length; p++)
        {
            int c = text[p];
            int digit = c is >= '0' and <= '9' ? c - '0' : (c | 0x20) is >= 'a' and <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
            if (digit >= 0)
            {
                mantissa = (mantissa << 4) + digit;
                anyDigit = true;
                if (seenPoint)
                    exponent -= 4;
            }
            else if (c == '.' && !seenPoint)
            {
                seenPoint = true;
            }
            else
            {
                break;
            }
        }
        if (!anyDigit)
            return false;
        if (p < text.Length)
        {
            if ((text[p] | 0x20) != 'p')
                return false;
            p++;
            bool expNegative = false;
            if (p < text.Length && text[p] is (byte)'+' or (byte)'-')
            {
                expNegative = text[p] == (byte)'-';
                p++;
            }
            if (p == text.Length)
                return false;
            long e = 0;
            for (; p < text.Length; p++)
            {
                if (text[p] < '0' || text[p] > '9')
                    return false;
                e = Math.Min(e * 10 + (text[p] - '0'), 1_000_000_000);
            }
            exponent += expNegative ? -e : e;
        }
        if (mantissa.IsZero)
        {
            value = new Value(negative, BigInteger.Zero, 0);
            return true;
        }
        long bits = (long)mantissa.GetBitLength() + exponent;
        if (bits > MaxExponent || bits < MinExponent)
            return false;
        return TryRound(negative, mantissa, BigInteger.One, (int)exponent, out value);
    }

    /// <summary>The nearest double (for timeouts).</summary>
    public static double ToDouble(in Value v)
    {
        double magnitude = Math.ScaleB((double)v.Mantissa, v.Exponent);
        return v.Negative ? -magnitude : magnitude;
    }

    /// <summary>a + b rounded to long double; false on overflow.</summary>
    public static bool TryAdd(in Value a, in Value b, out Value sum)
    {
        if (a.IsZero && b.IsZero)
        {
            sum = new Value(a.Negative && b.Negative, BigInteger.Zero, 0);
            return true;
        }
        if (a.IsZero)
        {
            sum = b;
            return true;
        }
        if (b.IsZero)
        {
            sum = a;
            return true;
        }
        int e = Math.Min(a.Exponent, b.Exponent);
        var x = a.Mantissa << (a.Exponent - e);
        var y = b.Mantissa << (b.Exponent - e);
        var s = (a.Negative ? -x : x) + (b.Negative ? -y : y);
        if (s.IsZero)
        {
            sum = new Value(false, BigInteger.Zero, 0);
            return true;
        }
        return TryRound(s.Sign < 0, BigInteger.Abs(s), BigInteger.One, e, out sum);
    }

    /// <summary>%.17Lf, then trailing zeros (and a trailing point) removed.</summary>
    public static string Format(in Value v)
    {
        BigInteger scaled;
        if (v.Exponent >= 0)
        {
            scaled = (v.Mantissa << v.Exponent) * s_tenPow17;
        }
        else
        {
            var num = v.Mantissa * s_tenPow17;
            var den = BigInteger.One << -v.Exponent;
            scaled = BigInteger.DivRem(num, den, out var rem);
            int cmp = (rem << 1).CompareTo(den);
            if (cmp > 0 || (cmp == 0 && !scaled.IsEven))
                scaled += 1;
        }
        string digits = scaled.ToString(CultureInfo.InvariantCulture);
        if (digits.Length < 18)
            digits = new string('0', 18 - digits.Length) + digits;
        string integer = digits[..^17];
        string fraction = digits[^17..].TrimEnd('0');
        string sign = v.Negative ? "-" : "";
        return fraction.Length == 0 ? sign + integer : sign + integer + "." + fraction;
    }

    /// <summary>Rounds num/den × 2^shift to a 64-bit mantissa (nearest, ties to even).</summary>
    private static bool TryRound(bool negative, BigInteger num, BigInteger den, int shift, out Value value)
    {
        long e = (long)num.GetBitLength() - (long)den.GetBitLength() - 64;
        BigInteger q;
        BigInteger rem;
        BigInteger d;
        while (true)
        {
            var n = e >= 0 ? num : num << (int)-e;
            d = e >= 0 ? den << (int)e : den;
            q = BigInteger.DivRem(n, d, out rem);
            if (q >= s_two64)
            {
                e++;
                continue;
            }
            if (q < s_two63)
            {
                e--;
                continue;
            }
            break;
        }
        int cmp = (rem << 1).CompareTo(d);
        if (cmp > 0 || (cmp == 0 && !q.IsEven))
            q += 1;
        if (q == s_two64)
        {
            q >>= 1;
            e++;
        }
        long exponent = e + shift;
        value = default;
        if (exponent + 64 > MaxExponent)
            return false;
        if (exponent < MinExponent)
            return false;
        value = new Value(negative, q, (int)exponent);
        return true;
    }
}
