using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Psyncd.Rdb;

/// <summary>
/// Redis's CRC-64 ("Jones" polynomial, reflected, initial value 0, no final xor), the RDB and DUMP checksum.
/// Check value: "123456789" gives 0xE9C6D914C4B8D9CA. Slicing-by-8: eight bytes per table round.
/// </summary>
public static class Crc64
{
    private const ulong ReflectedPolynomial = 0x95AC9329AC4BC9B5UL;

    // s_tables[k][b]: the CRC of byte b followed by k zero bytes.
    private static readonly ulong[] s_tables = BuildTables();

    private static ulong[] BuildTables()
    {
        var t = new ulong[8 * 256];
        for (int b = 0; b < 256; b++)
        {
            ulong crc = (ulong)b;
            for (int bit = 0; bit < 8; bit++)
                crc = (crc & 1) != 0 ? (crc >> 1) ^ ReflectedPolynomial : crc >> 1;
            t[b] = crc;
        }
        for (int k = 1; k < 8; k++)
        {
            for (int b = 0; b < 256; b++)
            {
                ulong prev = t[(k - 1) * 256 + b];
                t[k * 256 + b] = t[(int)(prev & 0xFF)] ^ (prev >> 8);
            }
        }
        return t;
    }

    /// <summary>Continues <paramref name="crc"/> over <paramref name="data"/> (start with 0).</summary>
    public static ulong Update(ulong crc, ReadOnlySpan<byte> data)
    {
        ref ulong t = ref MemoryMarshal.GetArrayDataReference(s_tables);
        int i = 0;
        int blocks = data.Length & ~7;
        while (i < blocks)
        {
            crc ^= BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i, 8));
            crc = Unsafe.Add(ref t, 7 * 256 + (int)(crc & 0xFF))
                ^ Unsafe.Add(ref t, 6 * 256 + (int)((crc >> 8) & 0xFF))
                ^ Unsafe.Add(ref t, 5 * 256 + (int)((crc >> 16) & 0xFF))
                ^ Unsafe.Add(ref t, 4 * 256 + (int)((crc >> 24) & 0xFF))
                ^ Unsafe.Add(ref t, 3 * 256 + (int)((crc >> 32) & 0xFF))
                ^ Unsafe.Add(ref t, 2 * 256 + (int)((crc >> 40) & 0xFF))
                ^ Unsafe.Add(ref t, 1 * 256 + (int)((crc >> 48) & 0xFF))
                ^ Unsafe.Add(ref t, (int)(crc >> 56));
            i += 8;
        }
        for (; i < data.Length; i++)
            crc = Unsafe.Add(ref t, (int)((crc ^ data[i]) & 0xFF)) ^ (crc >> 8);
        return crc;
    }

    public static ulong Compute(ReadOnlySpan<byte> data) => Update(0, data);
}
