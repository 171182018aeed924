using System.Numerics;
using System.Text;

namespace Psyncd.Text;

/// <summary>
/// The x87 80-bit <c>long double</c> arithmetic INCRBYFLOAT uses on redis-server's usual platform (x86-64
/// Linux), in software: parsing as glibc's <c>strtold</c> does (correctly rounded, decimal or hexadecimal,
/// "inf"), one correctly rounded addition, and printing as <c>"%.17Lf"</c> with Redis's trimming of trailing
/// zeros. A double would give different digits (0.1 + 0.2 is "0.3" in Redis, not "0.30000000000000004").
/// </summary>
/// <remarks>
/// A value is exactly <c>±Mantissa × 2^Exponent</c>, with a mantissa of at most 64 bits (normal values have
/// bit 63 set; subnormals sit at the lowest exponent). Not a hot path: BigInteger keeps it obviously right.
/// </remarks>
internal readonly struct LongDouble
{
    private const int MantissaBits = 64;

    /// <summary>Exponent of the smallest subnormal (2^-16445) when the mantissa is an integer.</summary>
    private const int MinExponent = -16445;

    /// <summary>Largest exponent of a finite value whose mantissa is a 64-bit integer (max ≈ 1.19e4932).</summary>
    private const int MaxExponent = 16320;

    /// <summary>Longest text string2ld accepts (its buffer is MAX_LONG_DOUBLE_CHARS, 5 KB, with the terminator).</summary>
    private const int MaxTextLength = 5 * 1024 - 1;

    private LongDouble(bool negative, BigInteger mantissa, int exponent, bool infinite)
    {
        Negative = negative;
        Mantissa = mantissa;
        Exponent = exponent;
        IsInfinity = infinite;
    }

    public bool Negative { get; }

    public BigInteger Mantissa { get; }

    public int Exponent { get; }

    public bool IsInfinity { get; }

    public bool IsZero => !IsInfinity && Mantissa.IsZero;

    public static LongDouble Zero => new(false, BigInteger.Zero, 0, false);

    /// <summary>
    /// Parses <paramref name="text"/> as Redis's string2ld does: the whole text must be a number strtold
    /// reads (no leading blank), not NaN, not out of range (overflow, or a non-zero number that underflows to 0).
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out LongDouble value)
    {
        value = Zero;
        if (text.IsEmpty || text.Length > MaxTextLength || IsCSpace(text[0]))
            return false;
        int p = 0;
        bool negative = false;
        if (text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == (byte)'-';
            p = 1;
        }
        var rest = text[p..];
        if (Ascii.EqualsIgnoreCase(rest, "inf"u8) || Ascii.EqualsIgnoreCase(rest, "infinity"u8))
        {
            value = new LongDouble(negative, BigInteger.Zero, 0, true);
            return true;
        }
        if (rest.Length >= 3 && rest[0] == (byte)'0' && (rest[1] | 0x20) == (byte)'x')
            return TryParseHex(negative, rest[2..], out value);
        return TryParseDecimal(negative, rest, out value);
    }

    private static bool TryParseDecimal(bool negative, ReadOnlySpan<byte> text, out LongDouble value)
    {
        value = Zero;
        int p = 0;
        var digits = new StringBuilder(text.Length);
        int fractionDigits = 0;
        bool any = false;
        while (p < text.Length && IsDigit(text[p]))
        {
            digits.Append((char)text[p++]);
            any = true;
        }
        if (p < text.Length && text[p] == (byte)'.')
        {
            p++;
            while (p < text.Length && IsDigit(text[p]))
            {
                digits.Append((char)text[p++]);
                fractionDigits++;
                any = true;
            }
        }
        if (!any)
            return false;
        long exponent = 0;
        if (p < text.Length && (text[p] | 0x20) == (byte)'e')
        {
            p++;
            bool expNegative = false;
            if (p < text.Length && text[p] is (byte)'+' or (byte)'-')
                expNegative = text[p++] == (byte)'-';
            if (p >= text.Length || !IsDigit(text[p]))
                return false; // strtold stops before the 'e': trailing bytes
            while (p < text.Length && IsDigit(text[p]))
            {
                if (exponent < 1_000_000_000)
                    exponent = exponent * 10 + (text[p] - '0');
                p++;
            }
            if (expNegative)
                exponent = -exponent;
        }
        if (p != text.Length)
            return false;

        int leadingZeros = 0;
        while (leadingZeros < digits.Length && digits[leadingZeros] == '0')
            leadingZeros++;
        if (leadingZeros == digits.Length)
        {
            value = new LongDouble(negative, BigInteger.Zero, 0, false);
            return true;
        }
        var mantissa = BigInteger.Parse(digits.ToString(leadingZeros, digits.Length - leadingZeros), System.Globalization.CultureInfo.InvariantCulture);
        long decimalExponent = exponent - fractionDigits;
        // Magnitude is about 10^(significant digits + decimalExponent): settle far-out cases at once.
        long magnitude = (digits.Length - leadingZeros) + decimalExponent;
        if (magnitude > 4934)
            return false; // overflow: ERANGE with HUGE_VALL
        if (magnitude < -4952)
            return false; // underflow to zero: ERANGE with 0
        LongDouble result;
        if (decimalExponent >= 0)
        {
            result = Round(negative, mantissa * BigInteger.Pow(10, (int)decimalExponent), 0);
        }
        else
        {
            // mantissa / 10^k, kept with enough quotient bits for a correct rounding plus a sticky bit.
            var divisor = BigInteger.Pow(10, (int)-decimalExponent);
            long shift = Math.Max(0, MantissaBits + 3 + (long)divisor.GetBitLength() - (long)mantissa.GetBitLength());
            var quotient = BigInteger.DivRem(mantissa << (int)shift, divisor, out var remainder);
            quotient <<= 1;
            if (!remainder.IsZero)
                quotient += 1;
            result = Round(negative, quotient, -(int)shift - 1);
        }
        if (result.IsInfinity || result.Mantissa.IsZero)
            return false;
        value = result;
        return true;
    }

    private static bool TryParseHex(bool negative, ReadOnlySpan<byte> text, out LongDouble value)
    {
        value = Zero;
        int p = 0;
        var mantissa = BigInteger.Zero;
        long binaryExponent = 0;
        bool any = false;
        while (p < text.Length && HexValue(text[p]) >= 0)
        {
            mantissa = (mantissa << 4) + HexValue(text[p++]);
            any = true;
        }
        if (p < text.Length && text[p] == (byte)'.')
        {
            p++;
            while (p < text.Length && HexValue(text[p]) >= 0)
            {
                mantissa = (mantissa << 4) + HexValue(text[p++]);
                binaryExponent -= 4;
                any = true;
            }
        }
        if (!any)
            return false; // "0x" alone: strtold reads the "0" and stops at 'x'
        if (p < text.Length && (text[p] | 0x20) == (byte)'p')
        {
            p++;
            bool expNegative = false;
            if (p < text.Length && text[p] is (byte)'+' or (byte)'-')
                expNegative = text[p++] == (byte)'-';
            if (p >= text.Length || !IsDigit(text[p]))
                return false;
            long exponent = 0;
            while (p < text.Length && IsDigit(text[p]))
            {
                if (exponent < 1_000_000_000)
                    exponent = exponent * 10 + (text[p] - '0');
                p++;
            }
            binaryExponent += expNegative ? -exponent : exponent;
        }
        if (p != text.Length)
            return false;
        if (mantissa.IsZero)
        {
            value = new LongDouble(negative, BigInteger.Zero, 0, false);
            return true;
        }
        long top = (long)mantissa.GetBitLength() + binaryExponent;
        if (top > 16400)
            return false;
        if (top < -16500)
            return false;
        var result = Round(negative, mantissa, (int)binaryExponent);
        if (result.IsInfinity || result.Mantissa.IsZero)
            return false;
        value = result;
        return true;
    }

    /// <summary>The sum, rounded to nearest (ties to even); infinite on overflow, NaN reported as infinite too.</summary>
    public static LongDouble Add(LongDouble a, LongDouble b)
    {
        if (a.IsInfinity || b.IsInfinity)
            return new LongDouble(a.IsInfinity ? a.Negative : b.Negative, BigInteger.Zero, 0, true);
        if (a.IsZero && b.IsZero)
            return new LongDouble(a.Negative && b.Negative, BigInteger.Zero, 0, false);
        if (a.IsZero)
            return b;
        if (b.IsZero)
            return a;
        int exponent = Math.Min(a.Exponent, b.Exponent);
        var sa = (a.Negative ? -a.Mantissa : a.Mantissa) << (a.Exponent - exponent);
        var sb = (b.Negative ? -b.Mantissa : b.Mantissa) << (b.Exponent - exponent);
        var sum = sa + sb;
        if (sum.IsZero)
            return Zero;
        return Round(sum.Sign < 0, BigInteger.Abs(sum), exponent);
    }

    /// <summary>The product with an integer, rounded to nearest (ties to even): x87's <c>value * 1000.0</c>.</summary>
    public static LongDouble Multiply(LongDouble a, int factor)
    {
        bool negative = a.Negative ^ (factor < 0);
        if (a.IsInfinity)
            return new LongDouble(negative, BigInteger.Zero, 0, true);
        if (a.IsZero || factor == 0)
            return Zero;
        return Round(negative, a.Mantissa * Math.Abs((long)factor), a.Exponent);
    }

    /// <summary>
    /// C's <c>(long long) ceill(x)</c>; false when the value is infinite or outside long long's range (where
    /// x86 yields LLONG_MIN).
    /// </summary>
    public bool TryCeiling(out long value)
    {
        value = 0;
        if (IsInfinity)
            return false;
        var magnitude = Exponent >= 0 ? Mantissa << Exponent : Mantissa >> -Exponent;
        bool fraction = Exponent < 0 && !(Mantissa & ((BigInteger.One << -Exponent) - 1)).IsZero;
        if (fraction && !Negative)
            magnitude += 1;
        if (magnitude > long.MaxValue)
            return false;
        value = Negative ? -(long)magnitude : (long)magnitude;
        return true;
    }

    /// <summary>
    /// Rounds ±<paramref name="magnitude"/>×2^<paramref name="exponent"/> to the nearest long double (ties to
    /// even), with subnormals and overflow to infinity.
    /// </summary>
    private static LongDouble Round(bool negative, BigInteger magnitude, int exponent)
    {
        long shift = (long)magnitude.GetBitLength() - MantissaBits;
        if (exponent + shift < MinExponent)
            shift = MinExponent - (long)exponent;
        if (shift > 0)
        {
            var mantissa = magnitude >> (int)shift;
            var remainder = magnitude - (mantissa << (int)shift);
            var half = BigInteger.One << (int)(shift - 1);
            int cmp = remainder.CompareTo(half);
            if (cmp > 0 || (cmp == 0 && !mantissa.IsEven))
                mantissa += 1;
            long newExponent = exponent + shift;
            if (mantissa.GetBitLength() > MantissaBits)
            {
                mantissa >>= 1;
                newExponent++;
            }
            if (newExponent > MaxExponent)
                return new LongDouble(negative, BigInteger.Zero, 0, true);
            return new LongDouble(negative, mantissa, (int)newExponent, false);
        }
        if (exponent + shift > MaxExponent)
            return new LongDouble(negative, BigInteger.Zero, 0, true);
        return new LongDouble(negative, magnitude << (int)-shift, (int)(exponent + shift), false);
    }

    /// <summary>A double's exact value (every double is a long double).</summary>
    public static LongDouble FromDouble(double value)
    {
        if (double.IsInfinity(value))
            return new LongDouble(value < 0, BigInteger.Zero, 0, true);
        long bits = BitConverter.DoubleToInt64Bits(value);
        int biased = (int)((bits >> 52) & 0x7FF);
        long fraction = bits & 0xFFFFFFFFFFFFFL;
        var mantissa = biased == 0 ? new BigInteger(fraction) : new BigInteger(fraction | (1L << 52));
        int exponent = (biased == 0 ? 1 : biased) - 1075;
        return new LongDouble(bits < 0, mantissa, exponent, false);
    }

    /// <summary>
    /// Redis's human-friendly form (ld2string with LD_STR_HUMAN): <c>"%.17Lf"</c>, then trailing zeros and a
    /// trailing point removed, and "-0" written "0". The value must be finite.
    /// </summary>
    public string ToHumanString()
    {
        var text = new StringBuilder(ToFixedString(17));
        int length = text.Length;
        while (text[length - 1] == '0')
            length--;
        if (text[length - 1] == '.')
            length--;
        text.Length = length;
        if (length == 2 && text[0] == '-' && text[1] == '0')
            return "0";
        return text.ToString();
    }

    /// <summary>
    /// glibc's <c>"%.{precision}Lf"</c> of a finite value: the exact value rounded to <paramref name="precision"/>
    /// decimals, a tie to the even last digit (round-to-nearest, the default rounding mode).
    /// </summary>
    public string ToFixedString(int precision)
    {
        BigInteger scaled;
        if (Exponent >= 0)
        {
            scaled = (Mantissa << Exponent) * BigInteger.Pow(10, precision);
        }
        else
        {
            var numerator = Mantissa * BigInteger.Pow(10, precision);
            scaled = numerator >> -Exponent;
            var remainder = numerator - (scaled << -Exponent);
            var half = BigInteger.One << (-Exponent - 1);
            int cmp = remainder.CompareTo(half);
            if (cmp > 0 || (cmp == 0 && !scaled.IsEven))
                scaled += 1;
        }
        string digits = scaled.ToString(System.Globalization.CultureInfo.InvariantCulture).PadLeft(precision + 1, '0');
        var text = new StringBuilder(digits.Length + 2);
        if (Negative)
            text.Append('-');
        text.Append(digits, 0, digits.Length - precision);
        if (precision > 0)
            text.Append('.').Append(digits, digits.Length - precision, precision);
        return text.ToString();
    }

    private static bool IsDigit(byte b) => b is >= (byte)'0' and <= (byte)'9';

    private static bool IsCSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r';

    /// <summary>A hexadecimal digit's value, or -1.</summary>
    internal static int HexValue(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
