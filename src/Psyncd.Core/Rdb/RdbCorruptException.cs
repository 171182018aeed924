using System.Globalization;
using Psyncd.Text;

namespace Psyncd.Rdb;

/// <summary>
/// An RDB stream cannot be loaded: <see cref="Offset"/> is where reading stopped, <see cref="Reason"/> why.
/// When it failed inside a key's record, <see cref="Key"/>, <see cref="Db"/> and <see cref="ValueType"/>
/// say which; <see cref="Unsupported"/> tells a well-formed value of a type psyncd does not have (a
/// stream, a module value) from damaged bytes.
/// </summary>
public sealed class RdbCorruptException : Exception
{
    /// <summary>Bytes of a key quoted in messages; longer keys are cut (a log line stays one line).</summary>
    private const int KeyShown = 64;

    public RdbCorruptException(long offset, string reason, bool unsupported = false)
        : base("Bad RDB at offset " + offset + ": " + reason)
    {
        Offset = offset;
        Reason = reason;
        Unsupported = unsupported;
    }

    private RdbCorruptException(RdbCorruptException inner, int db, byte[] key, byte valueType)
        : base("Bad RDB at offset " + inner.Offset + " (key " + Quote(key) + " in db " + db + ", RDB type " + valueType + "): " + inner.Reason, inner)
    {
        Offset = inner.Offset;
        Reason = inner.Reason;
        Unsupported = inner.Unsupported;
        Db = db;
        Key = key;
        ValueType = valueType;
    }

    public long Offset { get; }

    public string Reason { get; }

    /// <summary>True for a value type psyncd does not implement (the bytes may well be valid).</summary>
    public bool Unsupported { get; }

    /// <summary>The key whose record failed, or null when the failure was outside a key's record.</summary>
    public byte[]? Key { get; }

    public int Db { get; }

    /// <summary>The RDB type byte of <see cref="Key"/>'s record.</summary>
    public byte ValueType { get; }

    /// <summary>The same failure, placed in the record of <paramref name="key"/> (copied).</summary>
    internal RdbCorruptException InKey(int db, ReadOnlySpan<byte> key, byte valueType) => new(this, db, key.ToArray(), valueType);

    /// <summary>What failed, for one log line: the key (quoted, printable, cut) and type when known, the offset, the reason.</summary>
    public string Describe()
    {
        string where = "offset " + Offset.ToString(CultureInfo.InvariantCulture);
        if (Key is { } key)
            where = "key " + Quote(key) + " in db " + Db.ToString(CultureInfo.InvariantCulture) + ", RDB type " + ValueType.ToString(CultureInfo.InvariantCulture) + ", " + where;
        return Reason + " (" + where + ")";
    }

    private static string Quote(byte[] key) => key.Length <= KeyShown
        ? Repr.Quote(key)
        : Repr.Quote(key.AsSpan(0, KeyShown)) + "... (" + key.Length.ToString(CultureInfo.InvariantCulture) + " bytes)";
}
