namespace Psyncd.Rdb;

/// <summary>
/// LZF compression in the format Redis uses for RDB strings. A control byte below 32 announces that many
/// plus one literal bytes; otherwise its top three bits are a match length minus two (7: one more length byte
/// follows) and its low five bits with the next byte a back distance minus one (up to 8 KiB back).
/// </summary>
public static class Lzf
{
    private const int HashLog = 14;
    private const int MaxOffset = 1 << 13;
    private const int MaxLiteral = 32;
    private const int MaxMatch = 264;

    // The hash table of positions is reused across calls without clearing: entries hold position + base,
    // and each call uses a base above every value stored before, so older entries read as negative. Per
    // thread because a background save compresses on its own thread while DUMP compresses in the loop, and
    // a table allocated per call would cost 64 KB each time.
    [ThreadStatic]
    private static int[]? t_table;

    [ThreadStatic]
    private static int t_nextBase;

    /// <summary>
    /// Compresses <paramref name="input"/> into <paramref name="output"/>; returns the compressed length, or 0
    /// when the result does not fit in <paramref name="output"/>.
    /// </summary>
    public static int Compress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int inLen = input.Length;
        if (inLen == 0 || output.Length < 2)
            return 0;
        var table = t_table ??= new int[1 << HashLog];
        if (t_nextBase > int.MaxValue - inLen - 2)
        {
            Array.Clear(table);
            t_nextBase = 0;
        }
        int tableBase = t_nextBase + 1;
        t_nextBase = tableBase + inLen;
        int ip = 0;
        int op = 1; // output[0] is the first literal run's control byte
        int lit = 0;
        while (ip + 2 < inLen)
        {
            int h = Hash(input, ip);
            int candidate = table[h] - tableBase;
            table[h] = ip + tableBase;
            int off = ip - candidate - 1;
            if (candidate >= 0 && off < MaxOffset
                && input[candidate] == input[ip] && input[candidate + 1] == input[ip + 1] && input[candidate + 2] == input[ip + 2])
            {
                int maxLen = Math.Min(MaxMatch, inLen - ip);
                int len = 3;
                while (len < maxLen && input[candidate + len] == input[ip + len])
                    len++;
                // Close the literal run (or drop its unused control byte), then the back reference.
                if (lit > 0)
                    output[op - lit - 1] = (byte)(lit - 1);
                else
                    op--;
                int encoded = len - 2;
                if (op + 3 + 1 > output.Length)
                    return 0;
                if (encoded < 7)
                {
                    output[op++] = (byte)((encoded << 5) | (off >> 8));
                }
                else
                {
                    output[op++] = (byte)((7 << 5) | (off >> 8));
                    output[op++] = (byte)(encoded - 7);
                }
                output[op++] = (byte)off;
                lit = 0;
                op++; // control byte of the next literal run
                int end = ip + len;
                // Index the positions inside the match so later data can refer to them.
                for (int p = ip + 1; p < end && p + 2 < inLen; p++)
                    table[Hash(input, p)] = p + tableBase;
                ip = end;
                continue;
            }
            if (op >= output.Length)
                return 0;
            output[op++] = input[ip++];
            if (++lit == MaxLiteral)
            {
                output[op - lit - 1] = MaxLiteral - 1;
                lit = 0;
                op++;
            }
        }
        while (ip < inLen)
        {
            if (op >= output.Length)
                return 0;
            output[op++] = input[ip++];
            if (++lit == MaxLiteral)
            {
                output[op - lit - 1] = MaxLiteral - 1;
                lit = 0;
                op++;
            }
        }
        if (lit > 0)
            output[op - lit - 1] = (byte)(lit - 1);
        else
            op--;
        return op > output.Length ? 0 : op;
    }

    /// <summary>
    /// Decompresses <paramref name="input"/> into <paramref name="output"/>; returns the decompressed length,
    /// or -1 when the input is malformed or does not fit.
    /// </summary>
    public static int Decompress(ReadOnlySpan<byte> input, Span<byte> output)
    {
        int ip = 0;
        int op = 0;
        while (ip < input.Length)
        {
            int ctrl = input[ip++];
            if (ctrl < 32)
            {
                int count = ctrl + 1;
                if (ip + count > input.Length || op + count > output.Length)
                    return -1;
                input.Slice(ip, count).CopyTo(output[op..]);
                ip += count;
                op += count;
                continue;
            }
            int len = ctrl >> 5;
            if (len == 7)
            {
                if (ip >= input.Length)
                    return -1;
                len += input[ip++];
            }
            if (ip >= input.Length)
                return -1;
            int distance = ((ctrl & 0x1F) << 8) + input[ip++] + 1;
            len += 2;
            int from = op - distance;
            if (from < 0 || op + len > output.Length)
                return -1;
            if (distance == 1)
            {
                output.Slice(op, len).Fill(output[from]);
                op += len;
            }
            else
            {
                // Overlapping copies repeat the last `distance` bytes: copy in non-overlapping chunks.
                while (len > 0)
                {
                    int chunk = Math.Min(len, op - from);
                    output.Slice(from, chunk).CopyTo(output[op..]);
                    op += chunk;
                    len -= chunk;
                }
            }
        }
        return op;
    }

    private static int Hash(ReadOnlySpan<byte> data, int at)
    {
        uint v = (uint)(data[at] << 16 | data[at + 1] << 8 | data[at + 2]);
        return (int)((v * 2654435761u) >> (32 - HashLog));
    }
}
