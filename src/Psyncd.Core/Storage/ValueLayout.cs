using System.Runtime.CompilerServices;

namespace Psyncd.Storage;

/// <summary>The type of a key's value, as TYPE names it. The numbers are stored in records: never renumber.</summary>
public enum ValueKind : byte
{
    String = 0,
    List = 1,
    Set = 2,
    SortedSet = 3,
    Hash = 4,
}

/// <summary>
/// What OBJECT ENCODING says of a string whose bytes alone don't tell: Redis reports "int"/"embstr"/"raw"
/// by how the value was made, not only by its bytes. Stored in bits 4-5 of the header's first byte.
/// </summary>
public enum StringEncodingHint : byte
{
    /// <summary>As Redis's tryObjectEncoding judges the bytes (SET, MSET, INCR...): "int", "embstr" up to 44 bytes, else "raw".</summary>
    ByContent = 0,

    /// <summary>Built in place (APPEND, SETRANGE, SETBIT, BITOP): "raw" whatever the bytes.</summary>
    Raw = 1,

    /// <summary>Never "int" (INCRBYFLOAT's result): "embstr" up to 44 bytes, else "raw".</summary>
    NotInteger = 2,
}

/// <summary>
/// Byte layout of keys and values in FASTER's record log.
/// </summary>
/// <remarks>
/// <code>
/// key   := [db : 1 byte][key bytes]                       (all 16 databases share one store)
///
/// value := [kind|flags : 1][lru : 3][length-or-handle : 4][expire-at : 8, only with HasExpiry][payload]
///
///   kind|flags   low 3 bits: ValueKind; 0x30: StringEncodingHint of a string; 0x40 HeapString: the
///                string lives in the object heap; 0x80 HasExpiry: the 8-byte expire-at field is present
///   lru          24-bit clock in seconds of the last access (OBJECT IDLETIME), little-endian
///   length       inline strings: bytes of payload in use (the record may have room for more,
///                so APPEND and SETRANGE can grow in place)
///   handle       collections and heap strings: index into the ObjectHeap
///   expire-at    absolute unix time in milliseconds, little-endian
///   payload      inline strings only
/// </code>
/// FASTER wraps the value in its own 4-byte length (SpanByte): that length is the record's capacity.
/// </remarks>
internal static unsafe class ValueLayout
{
    public const int HeaderSize = 8;
    public const int ExpirySize = 8;

    public const byte KindMask = 0x07;
    public const byte HeapStringFlag = 0x40;
    public const byte HasExpiryFlag = 0x80;
    public const byte EncodingHintMask = 0x30;
    public const int EncodingHintShift = 4;

    /// <summary>Seconds that the 24-bit LRU clock can count before it wraps (194 days).</summary>
    public const int LruClockMax = (1 << 24) - 1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ValueKind Kind(byte* value) => (ValueKind)(value[0] & KindMask);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool HasExpiry(byte* value) => (value[0] & HasExpiryFlag) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool IsHeapString(byte* value) => (value[0] & HeapStringFlag) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static long ExpireAt(byte* value) => HasExpiry(value) ? *(long*)(value + HeaderSize) : -1;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int PayloadOffset(byte* value) => HasExpiry(value) ? HeaderSize + ExpirySize : HeaderSize;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static StringEncodingHint EncodingHint(byte* value) => (StringEncodingHint)((value[0] & EncodingHintMask) >> EncodingHintShift);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SetEncodingHint(byte* value, StringEncodingHint hint)
        => value[0] = (byte)((value[0] & ~EncodingHintMask) | ((int)hint << EncodingHintShift));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int LengthOrHandle(byte* value) => *(int*)(value + 4);

    public static int Lru(byte* value) => value[1] | (value[2] << 8) | (value[3] << 16);

    public static void SetLru(byte* value, int clock)
    {
        value[1] = (byte)clock;
        value[2] = (byte)(clock >> 8);
        value[3] = (byte)(clock >> 16);
    }

    /// <summary>Writes a header at <paramref name="value"/>; returns the payload offset.</summary>
    public static int WriteHeader(byte* value, ValueKind kind, bool heapString, long expireAt, int lengthOrHandle, int lru, StringEncodingHint hint = StringEncodingHint.ByContent)
    {
        byte flags = (byte)((byte)kind | ((int)hint << EncodingHintShift));
        if (heapString)
            flags |= HeapStringFlag;
        if (expireAt >= 0)
            flags |= HasExpiryFlag;
        value[0] = flags;
        SetLru(value, lru);
        *(int*)(value + 4) = lengthOrHandle;
        if (expireAt >= 0)
        {
            *(long*)(value + HeaderSize) = expireAt;
            return HeaderSize + ExpirySize;
        }
        return HeaderSize;
    }

    /// <summary>Bytes of value needed for an inline string of <paramref name="length"/> bytes.</summary>
    public static int InlineSize(int length, bool hasExpiry) => HeaderSize + (hasExpiry ? ExpirySize : 0) + length;
}
