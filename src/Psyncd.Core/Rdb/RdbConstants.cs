namespace Psyncd.Rdb;

/// <summary>
/// The numbers of the RDB format (Redis's rdb.h): opcodes, value types, length and string encodings.
/// Every number is explicit and pinned by a test; they are part of the file format, never renumber.
/// </summary>
public static class RdbConstants
{
    /// <summary>The version psyncd writes (Redis 2.6–3.0's format); readable by every Redis since.</summary>
    public const int WriteVersion = 6;

    /// <summary>The highest version the reader accepts (7.2 writes 11).</summary>
    public const int MaxReadVersion = 11;

    // Opcodes.
    public const byte OpFunction2 = 0xF5;
    public const byte OpFunction = 0xF6;
    public const byte OpModuleAux = 0xF7;
    public const byte OpIdle = 0xF8;
    public const byte OpFreq = 0xF9;
    public const byte OpAux = 0xFA;
    public const byte OpResizeDb = 0xFB;
    public const byte OpExpireTimeMs = 0xFC;
    public const byte OpExpireTime = 0xFD;
    public const byte OpSelectDb = 0xFE;
    public const byte OpEof = 0xFF;

    // Value types.
    public const byte TypeString = 0;
    public const byte TypeList = 1;
    public const byte TypeSet = 2;
    public const byte TypeZSet = 3;
    public const byte TypeHash = 4;
    public const byte TypeZSet2 = 5;
    public const byte TypeModule = 6;
    public const byte TypeModule2 = 7;
    public const byte TypeHashZipmap = 9;
    public const byte TypeListZiplist = 10;
    public const byte TypeSetIntset = 11;
    public const byte TypeZSetZiplist = 12;
    public const byte TypeHashZiplist = 13;
    public const byte TypeListQuicklist = 14;
    public const byte TypeStreamListpacks = 15;
    public const byte TypeHashListpack = 16;
    public const byte TypeZSetListpack = 17;
    public const byte TypeListQuicklist2 = 18;
    public const byte TypeStreamListpacks2 = 19;
    public const byte TypeSetListpack = 20;
    public const byte TypeStreamListpacks3 = 21;

    // Length encodings (the top two bits of the first byte).
    public const byte Len6Bit = 0;
    public const byte Len14Bit = 1;
    public const byte Len32Bit = 0x80;
    public const byte Len64Bit = 0x81;
    public const byte LenEncoded = 3;

    // Special string encodings (after a first byte 11xxxxxx).
    public const byte EncInt8 = 0;
    public const byte EncInt16 = 1;
    public const byte EncInt32 = 2;
    public const byte EncLzf = 3;

    // Doubles as strings (type 3 scores): the length byte's special values.
    public const byte DoubleNaN = 253;
    public const byte DoublePosInf = 254;
    public const byte DoubleNegInf = 255;

    // Quicklist 2 node containers.
    public const int QuicklistNodePlain = 1;
    public const int QuicklistNodePacked = 2;

    // Module value opcodes (to skip module data).
    public const int ModuleOpcodeEof = 0;
    public const int ModuleOpcodeSInt = 1;
    public const int ModuleOpcodeUInt = 2;
    public const int ModuleOpcodeFloat = 3;
    public const int ModuleOpcodeDouble = 4;
    public const int ModuleOpcodeString = 5;
}
