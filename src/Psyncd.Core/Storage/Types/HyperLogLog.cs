using System.Buffers.Binary;
using System.Numerics;

namespace Psyncd.Storage.Types;

/// <summary>
/// Redis's HyperLogLog as a string value, byte for byte: the same hash, registers, estimator, encodings and
/// the same edits, so that after the same commands psyncd and redis-server 7.0 hold the same bytes (GET,
/// DUMP, RDB, DEBUG DIGEST and a replica of either agree).
/// </summary>
/// <remarks>
/// <code>
/// header    := "HYLL" [encoding : 1] [unused : 3] [cached cardinality : 8, little endian; top bit set = stale]
/// dense     := header [16384 six-bit registers, packed from each byte's low bits up : 12288 bytes]
/// sparse    := header opcode*, covering the 16384 registers in order:
///   ZERO    00xxxxxx            x+1 registers (1..64) at zero
///   XZERO   01xxxxxx yyyyyyyy   ((x &lt;&lt; 8) | y) + 1 registers (1..16384) at zero
///   VAL     1vvvvvxx            x+1 registers (1..4) at v+1 (1..32)
/// </code>
/// A new HyperLogLog is sparse (one XZERO). It becomes dense when a register must hold more than 32, or when
/// an edit would make the sparse string longer than <c>hll-sparse-max-bytes</c>. The sparse edit is Redis's
/// exactly (split the opcode covering the register, then merge equal VALs among the five opcodes from the
/// one before it): a different but equally valid sparse string would count the same and still differ from
/// redis-server's bytes. Bytes past a string's end read as zero, as the terminator of Redis's sds does.
/// </remarks>
public static class HyperLogLog
{
    public const int P = 14;
    public const int Registers = 1 << P;
    public const int Q = 64 - P;
    public const int HeaderSize = 16;
    public const int DenseSize = HeaderSize + Registers * 6 / 8;
    public const byte Dense = 0;
    public const byte Sparse = 1;
    public const int MaxRegisterValue = 63;

    /// <summary>The largest register value a sparse VAL opcode holds; a larger one makes the HyperLogLog dense.</summary>
    public const int SparseMaxValue = 32;
    private const int SparseValMaxLength = 4;
    private const int SparseZeroMaxLength = 64;
    private const int SparseXZeroMaxLength = 16384;

    /// <summary>A new, empty HyperLogLog: the header and one XZERO for every register (18 bytes).</summary>
    public static int WriteEmpty(Span<byte> destination)
    {
        destination[..HeaderSize].Clear();
        "HYLL"u8.CopyTo(destination);
        destination[4] = Sparse;
        WriteXZero(destination[HeaderSize..], Registers);
        return HeaderSize + 2;
    }

    /// <summary>
    /// Whether a string passes Redis's check of a HyperLogLog (isHLLObjectOrReply): the magic, a known
    /// encoding, and a dense one's exact length. A sparse body is checked only when it is read.
    /// </summary>
    public static bool IsValid(ReadOnlySpan<byte> value)
        => value.Length >= HeaderSize && value.StartsWith("HYLL"u8) && value[4] <= Sparse && (value[4] != Dense || value.Length == DenseSize);

    public static bool IsSparse(ReadOnlySpan<byte> value) => value[4] == Sparse;

    /// <summary>True when the cached cardinality is current (its top bit clear).</summary>
    public static bool HasValidCache(ReadOnlySpan<byte> value) => (value[15] & 0x80) == 0;

    public static long CachedCardinality(ReadOnlySpan<byte> value) => (long)BinaryPrimitives.ReadUInt64LittleEndian(value[8..]);

    public static void WriteCachedCardinality(Span<byte> value, long cardinality) => BinaryPrimitives.WriteUInt64LittleEndian(value[8..], (ulong)cardinality);

    public static void InvalidateCache(Span<byte> value) => value[15] |= 0x80;

    // ------------------------------------------------------------------
    // Hashing
    // ------------------------------------------------------------------

    /// <summary>The register an element falls in, and the length of its hash's "000...1" pattern (1..51).</summary>
    public static (int Index, int Count) PatternOf(ReadOnlySpan<byte> element)
    {
        ulong hash = MurmurHash64A(element, 0xadc83b19);
        int index = (int)(hash & (Registers - 1));
        hash >>= P;
        hash |= 1UL << Q;
        return (index, BitOperations.TrailingZeroCount(hash) + 1);
    }

    private static ulong MurmurHash64A(ReadOnlySpan<byte> data, uint seed)
    {
        const ulong m = 0xc6a4a7935bd1e995;
        const int r = 47;
        ulong h = seed ^ ((ulong)data.Length * m);
        int whole = data.Length & ~7;
        for (int i = 0; i < whole; i += 8)
        {
            ulong k = BinaryPrimitives.ReadUInt64LittleEndian(data[i..]);
            k *= m;
            k ^= k >> r;
            k *= m;
            h ^= k;
            h *= m;
        }
        var tail = data[whole..];
        if (tail.Length > 0)
        {
            for (int i = tail.Length - 1; i >= 0; i--)
                h ^= (ulong)tail[i] << (8 * i);
            h *= m;
        }
        h ^= h >> r;
        h *= m;
        h ^= h >> r;
        return h;
    }

    // ------------------------------------------------------------------
    // Dense registers
    // ------------------------------------------------------------------

    /// <summary>Register <paramref name="index"/> of a dense body (the 12288 bytes after the header).</summary>
    public static int GetDense(ReadOnlySpan<byte> registers, int index)
    {
        int bit = index * 6, b = bit >> 3, shift = bit & 7;
        int v = registers[b] >> shift;
        // A register starting in a byte's top two bits spills into the next byte.
        if (shift > 2)
            v |= registers[b + 1] << (8 - shift);
        return v & MaxRegisterValue;
    }

    public static void SetDense(Span<byte> registers, int index, int value)
    {
        int bit = index * 6, b = bit >> 3, shift = bit & 7;
        registers[b] = (byte)((registers[b] & ~(MaxRegisterValue << shift)) | (value << shift));
        if (shift > 2)
            registers[b + 1] = (byte)((registers[b + 1] & ~(MaxRegisterValue >> (8 - shift))) | (value >> (8 - shift)));
    }

    /// <summary>Raises a dense register to <paramref name="count"/>; true when it was lower.</summary>
    public static bool RaiseDense(Span<byte> registers, int index, int count)
    {
        if (count <= GetDense(registers, index))
            return false;
        SetDense(registers, index, count);
        return true;
    }

    // ------------------------------------------------------------------
    // Reading either encoding
    // ------------------------------------------------------------------

    /// <summary>
    /// Raises each of <paramref name="max"/> (one byte per register) to the HyperLogLog's register
    /// (PFMERGE, PFCOUNT of several keys). False when a sparse body does not cover exactly every register.
    /// </summary>
    public static bool MergeInto(ReadOnlySpan<byte> value, Span<byte> max)
    {
        if (value[4] == Dense)
        {
            var registers = value[HeaderSize..];
            for (int i = 0; i < Registers; i++)
            {
                int v = GetDense(registers, i);
                if (v > max[i])
                    max[i] = (byte)v;
            }
            return true;
        }
        int index = 0;
        for (var ops = new SparseReader(value); ops.Next();)
        {
            if (ops.Value != 0)
            {
                if (index + ops.Run > Registers)
                    return false;
                for (int end = index + ops.Run; index < end; index++)
                {
                    if (ops.Value > max[index])
                        max[index] = (byte)ops.Value;
                }
            }
            else
            {
                index += ops.Run;
            }
        }
        return index == Registers;
    }

    /// <summary>
    /// Counts the registers at each value (PFCOUNT of one key). False when a sparse body does not cover
    /// exactly every register.
    /// </summary>
    public static bool Histogram(ReadOnlySpan<byte> value, Span<int> histogram)
    {
        histogram.Clear();
        if (value[4] == Dense)
        {
            var registers = value[HeaderSize..];
            for (int i = 0; i < Registers; i++)
                histogram[GetDense(registers, i)]++;
            return true;
        }
        int index = 0;
        for (var ops = new SparseReader(value); ops.Next();)
        {
            histogram[ops.Value] += ops.Run;
            index += ops.Run;
        }
        return index == Registers;
    }

    /// <summary>Counts registers held one per byte (the merged registers of PFCOUNT of several keys).</summary>
    public static void HistogramOfBytes(ReadOnlySpan<byte> registers, Span<int> histogram)
    {
        histogram.Clear();
        foreach (byte v in registers[..Registers])
            histogram[v]++;
    }

    /// <summary>Redis's cardinality estimate (hllCount, Ertl's improved estimator) from the register histogram.</summary>
    public static long Estimate(ReadOnlySpan<int> histogram)
    {
        double m = Registers;
        double z = m * Tau((m - histogram[Q + 1]) / m);
        for (int j = Q; j >= 1; j--)
        {
            z += histogram[j];
            z *= 0.5;
        }
        z += m * Sigma(histogram[0] / m);
        const double alphaInf = 0.721347520444481703680;
        return (long)Math.Round(alphaInf * m * m / z, MidpointRounding.AwayFromZero);
    }

    private static double Sigma(double x)
    {
        if (x == 1)
            return double.PositiveInfinity;
        double y = 1, z = x, previous;
        do
        {
            x *= x;
            previous = z;
            z += x * y;
            y += y;
        }
        while (previous != z);
        return z;
    }

    private static double Tau(double x)
    {
        if (x == 0 || x == 1)
            return 0;
        double y = 1, z = 1 - x, previous;
        do
        {
            x = Math.Sqrt(x);
            previous = z;
            y *= 0.5;
            z -= Math.Pow(1 - x, 2) * y;
        }
        while (previous != z);
        return z / 3;
    }

    /// <summary>PFDEBUG DECODE's text of a sparse body: "Z:n" (XZERO), "z:n" (ZERO), "v:value,n" (VAL), space separated.</summary>
    public static string DescribeSparse(ReadOnlySpan<byte> value)
    {
        var text = new System.Text.StringBuilder();
        for (var ops = new SparseReader(value); ops.Next();)
        {
            if (text.Length > 0)
                text.Append(' ');
            if (ops.Value != 0)
                text.Append("v:").Append(ops.Value).Append(',').Append(ops.Run);
            else
                text.Append(ops.IsXZero ? "Z:" : "z:").Append(ops.Run);
        }
        return text.ToString();
    }

    /// <summary>Walks a sparse body opcode by opcode: each one's run of registers and their value (0 for ZERO and XZERO).</summary>
    private ref struct SparseReader
    {
        private readonly ReadOnlySpan<byte> _value;
        private int _p;

        public SparseReader(ReadOnlySpan<byte> value)
        {
            _value = value;
            _p = HeaderSize;
        }

        public int Run { get; private set; }

        public int Value { get; private set; }

        public bool IsXZero { get; private set; }

        public bool Next()
        {
            if (_p >= _value.Length)
                return false;
            byte op = _value[_p];
            IsXZero = HyperLogLog.IsXZero(op);
            if (IsZero(op))
            {
                Run = ZeroLength(op);
                Value = 0;
                _p++;
            }
            else if (IsXZero)
            {
                Run = XZeroLength(_value, _p);
                Value = 0;
                _p += 2;
            }
            else
            {
                Run = ValLength(op);
                Value = ValValue(op);
                _p++;
            }
            return true;
        }
    }

    // ------------------------------------------------------------------
    // Opcodes
    // ------------------------------------------------------------------

    private static bool IsZero(byte op) => (op & 0xC0) == 0;

    private static bool IsXZero(byte op) => (op & 0xC0) == 0x40;

    private static bool IsVal(byte op) => (op & 0x80) != 0;

    private static int ZeroLength(byte op) => (op & 0x3F) + 1;

    /// <summary>An XZERO's run; its second byte past the end reads as zero (Redis reads the sds terminator).</summary>
    private static int XZeroLength(ReadOnlySpan<byte> value, int p) => (((value[p] & 0x3F) << 8) | (p + 1 < value.Length ? value[p + 1] : 0)) + 1;

    private static int ValValue(byte op) => ((op >> 2) & 0x1F) + 1;

    private static int ValLength(byte op) => (op & 0x03) + 1;

    private static byte Val(int value, int length) => (byte)(0x80 | ((value - 1) << 2) | (length - 1));

    private static void WriteXZero(Span<byte> destination, int length)
    {
        destination[0] = (byte)(0x40 | ((length - 1) >> 8));
        destination[1] = (byte)((length - 1) & 0xFF);
    }

    /// <summary>Writes a run of zero registers as ZERO (up to 64) or XZERO; returns the bytes written.</summary>
    private static int WriteZeros(Span<byte> destination, int length)
    {
        if (length > SparseZeroMaxLength)
        {
            WriteXZero(destination, length);
            return 2;
        }
        destination[0] = (byte)(length - 1);
        return 1;
    }

    // ------------------------------------------------------------------
    // PFSELFTEST
    // ------------------------------------------------------------------

    /// <summary>
    /// PFSELFTEST: checks this implementation against itself; null when it passes, else what failed. Dense
    /// registers must read back what was written; one HyperLogLog kept sparse as long as the rules allow and
    /// one dense from the start, fed the same elements, must hold the same registers and counts at each
    /// checkpoint; the sparse one must respect the size limit and become dense; and the count must be within
    /// six standard errors (1.04/sqrt(16384) each) of the truth.
    /// </summary>
    public static string? SelfTest()
    {
        var rng = new Random(0x5eed);
        var registers = new byte[DenseSize - HeaderSize + 1];
        var expected = new byte[Registers];
        for (int round = 0; round < 100; round++)
        {
            for (int i = 0; i < Registers; i++)
            {
                expected[i] = (byte)rng.Next(MaxRegisterValue + 1);
                SetDense(registers, i, expected[i]);
            }
            for (int i = 0; i < Registers; i++)
            {
                if (GetDense(registers, i) != expected[i])
                    return "Register error at " + i;
            }
        }

        const long sparseLimit = 3000;
        var sparse = new Editor();
        var dense = new Editor();
        sparse.LoadEmpty();
        dense.LoadEmpty();
        if (!dense.ToDense())
            return "An empty HyperLogLog could not be made dense";
        Span<int> histogram = stackalloc int[Q + 2];
        var sparseRegisters = new byte[Registers];
        var denseRegisters = new byte[Registers];
        Span<byte> element = stackalloc byte[8];
        bool promoted = false;
        long checkpoint = 10;
        for (long n = 1; n <= 1_000_000; n++)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(element, rng.NextInt64());
            int a = sparse.Add(element, sparseLimit), b = dense.Add(element, sparseLimit);
            if (a < 0 || b < 0)
                return "Corrupted HLL after " + n + " elements";
            if (a != b)
                return "Dense and sparse disagree on element " + n;
            if (sparse.IsSparse && sparse.Value.Length > sparseLimit)
                return "Sparse encoding past its limit: " + sparse.Value.Length + " bytes";
            promoted |= !sparse.IsSparse;
            if (n != checkpoint)
                continue;
            checkpoint *= 10;
            Array.Clear(sparseRegisters);
            Array.Clear(denseRegisters);
            if (!MergeInto(sparse.Value, sparseRegisters) || !MergeInto(dense.Value, denseRegisters))
                return "Corrupted HLL at " + n + " elements";
            if (!sparseRegisters.AsSpan().SequenceEqual(denseRegisters))
                return "Dense and sparse registers differ at " + n + " elements";
            if (!Histogram(sparse.Value, histogram))
                return "Corrupted HLL at " + n + " elements";
            long count = Estimate(histogram);
            if (!Histogram(dense.Value, histogram) || Estimate(histogram) != count)
                return "Dense and sparse counts differ at " + n + " elements";
            double error = Math.Abs(count - n);
            double allowed = Math.Max(1, Math.Ceiling(6 * 1.04 / Math.Sqrt(Registers) * n));
            if (error > allowed)
                return "Too big error. card:" + count + " abserr:" + error;
        }
        return promoted ? null : "The sparse encoding was never promoted";
    }

    // ------------------------------------------------------------------
    // Editing
    // ------------------------------------------------------------------

    /// <summary>
    /// A HyperLogLog being edited (PFADD on a sparse one, PFMERGE's target, PFDEBUG TODENSE/GETREG): a copy
    /// of the value in a buffer with room for the sparse string's growth and for the dense form. One editor
    /// is reused by every command (the loop runs one at a time), so a PFADD allocates nothing once warm.
    /// </summary>
    public sealed class Editor
    {
        // A sparse string made by edits holds at most one byte per register (XZERO only covers more than 64).
        private const int Capacity = HeaderSize + Registers + 64;

        private byte[] _data = new byte[Capacity];
        private byte[] _spare = new byte[Capacity];
        private int _length;

        public ReadOnlySpan<byte> Value => _data.AsSpan(0, _length);

        public bool IsSparse => _data[4] == Sparse;

        public void LoadEmpty()
        {
            Fit(0);
            _length = WriteEmpty(_data);
        }

        public void Load(ReadOnlySpan<byte> value)
        {
            Fit(value.Length);
            value.CopyTo(_data);
            _length = value.Length;
        }

        /// <summary>
        /// Room for a value and an edit's three extra bytes. A value set by other means may be longer than any
        /// PFADD makes (a corrupt "HyperLogLog" of megabytes): its buffer is let go at the next normal one.
        /// </summary>
        private void Fit(int length)
        {
            if (length + 8 > _data.Length)
                _data = new byte[length + 64];
            else if (_data.Length > Capacity && length + 8 <= Capacity)
                _data = new byte[Capacity];
        }

        public void InvalidateCache() => HyperLogLog.InvalidateCache(_data);

        /// <summary>PFADD of one element: 1 when a register rose, 0 when not, -1 when a sparse body is corrupt.</summary>
        public int Add(ReadOnlySpan<byte> element, long sparseMaxBytes)
        {
            var (index, count) = PatternOf(element);
            return Set(index, count, sparseMaxBytes);
        }

        /// <summary>Raises register <paramref name="index"/> to <paramref name="count"/>, as hllDenseSet or hllSparseSet.</summary>
        public int Set(int index, int count, long sparseMaxBytes)
        {
            if (!IsSparse)
                return RaiseDense(_data.AsSpan(HeaderSize, DenseSize - HeaderSize), index, count) ? 1 : 0;
            int result = SparseSet(index, count, sparseMaxBytes);
            if (result != 2)
                return result;
            // Promotion: the sparse string cannot take the edit.
            if (!ToDense())
                return -1;
            bool raised = RaiseDense(_data.AsSpan(HeaderSize, DenseSize - HeaderSize), index, count);
            System.Diagnostics.Debug.Assert(raised, "a promotion happens only for a register that must rise");
            return 1;
        }

        /// <summary>Converts a sparse HyperLogLog to dense (header and cached cardinality kept); false when the body is corrupt.</summary>
        public bool ToDense()
        {
            if (!IsSparse)
                return true;
            var dense = _spare.AsSpan(0, DenseSize);
            dense.Clear();
            _data.AsSpan(0, HeaderSize).CopyTo(dense);
            dense[4] = Dense;
            var registers = dense[HeaderSize..];
            int index = 0;
            for (var ops = new SparseReader(Value); ops.Next();)
            {
                if (ops.Value == 0)
                {
                    index += ops.Run;
                    continue;
                }
                // A VAL past the last register is corrupt even when the registers before it were all
                // covered (redis-server 7.0.15 as shipped, with the fix for CVE-2025-32023).
                if (index + ops.Run > Registers)
                    return false;
                for (int end = index + ops.Run; index < end; index++)
                    SetDense(registers, index, ops.Value);
            }
            if (index != Registers)
                return false;
            (_data, _spare) = (_spare, _data);
            _length = DenseSize;
            return true;
        }

        /// <summary>
        /// hllSparseSet: 1 when the register rose, 0 when it already held as much, -1 when the body is corrupt,
        /// 2 when the HyperLogLog must become dense first (a value over 32, or a string past the limit).
        /// </summary>
        private int SparseSet(int index, int count, long sparseMaxBytes)
        {
            if (count > SparseMaxValue)
                return 2;
            // An edit adds at most three bytes (XZERO split into XZERO VAL XZERO).
            if (_length + 3 > _data.Length)
                Array.Resize(ref _data, _length + 64);
            var d = _data;
            int end = _length;

            // 1. Find the opcode covering the register, and the one before it.
            int p = HeaderSize, first = 0, prev = -1, span = 0;
            while (p < end)
            {
                byte op = d[p];
                int length = 1;
                if (IsZero(op))
                    span = ZeroLength(op);
                else if (IsVal(op))
                    span = ValLength(op);
                else
                {
                    span = XZeroLength(Value, p);
                    length = 2;
                }
                if (index <= first + span - 1)
                    break;
                prev = p;
                p += length;
                first += span;
            }
            if (span == 0 || p >= end)
                return -1;

            byte current = d[p];
            bool isXZero = IsXZero(current), isZero = IsZero(current);
            int next = p + (isXZero ? 2 : 1);
            if (next >= end)
                next = -1;
            int run = isZero ? ZeroLength(current) : isXZero ? XZeroLength(Value, p) : ValLength(current);

            // 2. The trivial cases: a VAL already as high, or a run of one register rewritten in place.
            if (IsVal(current))
            {
                if (ValValue(current) >= count)
                    return 0;
                if (run == 1)
                {
                    d[p] = Val(count, 1);
                    return Updated(prev, end);
                }
            }
            if (isZero && run == 1)
            {
                d[p] = Val(count, 1);
                return Updated(prev, end);
            }

            // 3. Split the opcode: what lies before the register, the register, what lies after it.
            Span<byte> sequence = stackalloc byte[5];
            int n = 0, last = first + span - 1;
            if (isZero || isXZero)
            {
                if (index != first)
                    n += WriteZeros(sequence[n..], index - first);
                sequence[n++] = Val(count, 1);
                if (index != last)
                    n += WriteZeros(sequence[n..], last - index);
            }
            else
            {
                int value = ValValue(current);
                if (index != first)
                    sequence[n++] = Val(value, index - first);
                sequence[n++] = Val(count, 1);
                if (index != last)
                    sequence[n++] = Val(value, last - index);
            }
            int delta = n - (isXZero ? 2 : 1);
            if (delta > 0 && _length + delta > sparseMaxBytes)
                return 2;
            if (delta != 0 && next >= 0)
                Array.Copy(d, next, d, next + delta, end - next);
            _length += delta;
            end += delta;
            sequence[..n].CopyTo(d.AsSpan(p));
            return Updated(prev, end);
        }

        /// <summary>
        /// hllSparseSet's last step: merges adjacent VALs of equal value (up to four registers together) among
        /// the five opcodes from the one before the edit, then marks the cached cardinality stale.
        /// </summary>
        private int Updated(int prev, int end)
        {
            var d = _data;
            int p = prev >= 0 ? prev : HeaderSize;
            int scan = 5;
            while (p < end && scan-- != 0)
            {
                byte op = d[p];
                if (IsXZero(op))
                {
                    p += 2;
                    continue;
                }
                if (IsZero(op))
                {
                    p++;
                    continue;
                }
                if (p + 1 < end && IsVal(d[p + 1]) && ValValue(op) == ValValue(d[p + 1]))
                {
                    int length = ValLength(op) + ValLength(d[p + 1]);
                    if (length <= SparseValMaxLength)
                    {
                        d[p + 1] = Val(ValValue(op), length);
                        Array.Copy(d, p + 1, d, p, end - p - 1);
                        _length--;
                        end--;
                        // Stay: the merged VAL may merge with the one after it.
                        continue;
                    }
                }
                p++;
            }
            HyperLogLog.InvalidateCache(d);
            return 1;
        }
    }
}
