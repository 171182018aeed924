using System.Buffers.Binary;
using System.Globalization;

namespace Psyncd.Rdb;

/// <summary>Receives one element of a compact blob (integers arrive as their decimal text).</summary>
internal delegate void ElementVisitor(ReadOnlySpan<byte> element);

/// <summary>Walkers for the compact encodings Redis stores as RDB strings: ziplist (≤ 6.2) and listpack (7.0+).</summary>
internal static class Blobs
{
    /// <summary>Ziplist: u32 total bytes, u32 tail offset, u16 count, entries (prevlen, encoding, data), 0xFF.</summary>
    public static void ForEachZiplist(ReadOnlySpan<byte> zl, RdbReader reader, ElementVisitor visit, long offset)
    {
        if (zl.Length < 11 || BinaryPrimitives.ReadUInt32LittleEndian(zl) != zl.Length || zl[^1] != 0xFF)
            throw reader.Corrupt(offset, "Ziplist integrity check failed (header)");
        int p = 10;
        Span<byte> number = stackalloc byte[24];
        int end = zl.Length - 1;
        while (p < end)
        {
            // prevlen
            if (zl[p] < 254)
                p += 1;
            else if (zl[p] == 254)
                p += 5;
            else
                throw reader.Corrupt(offset, "Ziplist integrity check failed (prevlen)");
            if (p >= end)
                throw reader.Corrupt(offset, "Ziplist integrity check failed (entry past end)");
            byte enc = zl[p];
            int len;
            switch (enc >> 6)
            {
                case 0:
                    len = enc & 0x3F;
                    p += 1;
                    break;
                case 1:
                    Need(zl, p, 2, end, reader, offset);
                    len = ((enc & 0x3F) << 8) | zl[p + 1];
                    p += 2;
                    break;
                case 2:
                    Need(zl, p, 5, end, reader, offset);
                    long l32 = BinaryPrimitives.ReadUInt32BigEndian(zl[(p + 1)..]);
                    if (l32 > int.MaxValue)
                        throw reader.Corrupt(offset, "Ziplist integrity check failed (length)");
                    len = (int)l32;
                    p += 5;
                    break;
                default:
                {
                    long v;
                    int size;
                    switch (enc)
                    {
                        case 0xC0: size = 2; break;
                        case 0xD0: size = 4; break;
                        case 0xE0: size = 8; break;
                        case 0xF0: size = 3; break;
                        case 0xFE: size = 1; break;
                        default:
                            if (enc >= 0xF1 && enc <= 0xFD)
                            {
                                size = 0;
                                break;
                            }
                            throw reader.Corrupt(offset, "Ziplist integrity check failed (encoding " + enc + ")");
                    }
                    Need(zl, p, 1 + size, end, reader, offset);
                    var data = zl.Slice(p + 1, size);
                    v = enc switch
                    {
                        0xC0 => BinaryPrimitives.ReadInt16LittleEndian(data),
                        0xD0 => BinaryPrimitives.ReadInt32LittleEndian(data),
                        0xE0 => BinaryPrimitives.ReadInt64LittleEndian(data),
                        0xF0 => (data[0] | data[1] << 8 | (sbyte)data[2] << 16),
                        0xFE => (sbyte)data[0],
                        _ => (enc & 0x0F) - 1,
                    };
                    p += 1 + size;
                    v.TryFormat(number, out int written, default, CultureInfo.InvariantCulture);
                    visit(number[..written]);
                    continue;
                }
            }
            if ((long)p + len > end)
                throw reader.Corrupt(offset, "Ziplist integrity check failed (entry past end)");
            visit(zl.Slice(p, len));
            p += len;
        }
        if (p != end)
            throw reader.Corrupt(offset, "Ziplist integrity check failed (end)");
    }

    /// <summary>Listpack: u32 total bytes, u16 count, entries (encoding+data, backlen), 0xFF.</summary>
    public static void ForEachListpack(ReadOnlySpan<byte> lp, RdbReader reader, ElementVisitor visit, long offset)
    {
        if (lp.Length < 7 || BinaryPrimitives.ReadUInt32LittleEndian(lp) != lp.Length || lp[^1] != 0xFF)
            throw reader.Corrupt(offset, "Listpack integrity check failed (header)");
        int p = 6;
        int end = lp.Length - 1;
        Span<byte> number = stackalloc byte[24];
        while (p < end)
        {
            byte b = lp[p];
            int start = p;
            long? integer = null;
            int strStart = 0, strLen = 0;
            if ((b & 0x80) == 0)
            {
                integer = b & 0x7F;
                p += 1;
            }
            else if ((b & 0xC0) == 0x80)
            {
                strLen = b & 0x3F;
                strStart = p + 1;
                p = strStart + strLen;
            }
            else if ((b & 0xE0) == 0xC0)
            {
                Need(lp, p, 2, end, reader, offset);
                int raw = ((b & 0x1F) << 8) | lp[p + 1];
                integer = raw >= 1 << 12 ? raw - (1 << 13) : raw;
                p += 2;
            }
            else if ((b & 0xF0) == 0xE0)
            {
                Need(lp, p, 2, end, reader, offset);
                strLen = ((b & 0x0F) << 8) | lp[p + 1];
                strStart = p + 2;
                p = strStart + strLen;
            }
            else
            {
                switch (b)
                {
                    case 0xF0:
                        Need(lp, p, 5, end, reader, offset);
                        uint l32 = BinaryPrimitives.ReadUInt32LittleEndian(lp[(p + 1)..]);
                        if (l32 > int.MaxValue)
                            throw reader.Corrupt(offset, "Listpack integrity check failed (length)");
                        strLen = (int)l32;
                        strStart = p + 5;
                        p = strStart + strLen;
                        break;
                    case 0xF1:
                        Need(lp, p, 3, end, reader, offset);
                        integer = BinaryPrimitives.ReadInt16LittleEndian(lp[(p + 1)..]);
                        p += 3;
                        break;
                    case 0xF2:
                        Need(lp, p, 4, end, reader, offset);
                        integer = lp[p + 1] | lp[p + 2] << 8 | (sbyte)lp[p + 3] << 16;
                        p += 4;
                        break;
                    case 0xF3:
                        Need(lp, p, 5, end, reader, offset);
                        integer = BinaryPrimitives.ReadInt32LittleEndian(lp[(p + 1)..]);
                        p += 5;
                        break;
                    case 0xF4:
                        Need(lp, p, 9, end, reader, offset);
                        integer = BinaryPrimitives.ReadInt64LittleEndian(lp[(p + 1)..]);
                        p += 9;
                        break;
                    default:
                        throw reader.Corrupt(offset, "Listpack integrity check failed (encoding " + b + ")");
                }
            }
            if (p > end)
                throw reader.Corrupt(offset, "Listpack integrity check failed (entry past end)");
            int entrySize = p - start;
            p += entrySize <= 127 ? 1 : entrySize < 16383 ? 2 : entrySize < 2097151 ? 3 : entrySize < 268435455 ? 4 : 5;
            if (p > end)
                throw reader.Corrupt(offset, "Listpack integrity check failed (backlen past end)");
            if (integer is long v)
            {
                v.TryFormat(number, out int written, default, CultureInfo.InvariantCulture);
                visit(number[..written]);
            }
            else
            {
                visit(lp.Slice(strStart, strLen));
            }
        }
    }

    private static void Need(ReadOnlySpan<byte> blob, int p, int size, int end, RdbReader reader, long offset)
    {
        if ((long)p + size > end)
            throw reader.Corrupt(offset, "Blob integrity check failed (entry past end)");
    }
}
