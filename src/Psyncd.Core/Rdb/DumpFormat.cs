using System.Buffers.Binary;
using Psyncd.Storage;

namespace Psyncd.Rdb;

/// <summary>DUMP's payload (what RESTORE accepts): one typed RDB value, the RDB version (2 bytes LE), the CRC64 (8 bytes LE).</summary>
public static class DumpFormat
{
    /// <summary>The RDB version DUMP payloads carry, and the highest RESTORE accepts (Redis 7.0's).</summary>
    public const int MaxVersion = 10;

    /// <summary>DUMP's serialization of a value (what RESTORE accepts): the typed value, then the footer.</summary>
    public static RdbWriter Write(in Entry entry, bool compress)
    {
        var writer = new RdbWriter(compress, initialCapacity: 256);
        writer.WriteTypedValue(entry);
        // Footer: the RDB version (2 bytes LE), then the CRC64 of everything before it (8 bytes LE).
        Span<byte> footer = stackalloc byte[8];
        BinaryPrimitives.WriteUInt16LittleEndian(footer, RdbConstants.WriteVersion);
        writer.WriteRaw(footer[..2]);
        BinaryPrimitives.WriteUInt64LittleEndian(footer, Crc64.Compute(writer.Written));
        writer.WriteRaw(footer);
        return writer;
    }

    /// <summary>At least 10 bytes; the version footer no newer than ours; the CRC64 matches.</summary>
    public static bool Verify(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 10)
            return false;
        int version = BinaryPrimitives.ReadUInt16LittleEndian(payload[^10..]);
        if (version > MaxVersion)
            return false;
        ulong crc = Crc64.Compute(payload[..^8]);
        return BinaryPrimitives.ReadUInt64LittleEndian(payload[^8..]) == crc;
    }
}
