namespace Psyncd.Persistence;

/// <summary>An RDB stream is corrupt or truncated: <see cref="Offset"/> is where reading stopped, <see cref="Reason"/> why.</summary>
public sealed class RdbCorruptException : Exception
{
    public RdbCorruptException(long offset, string reason)
        : base("Bad RDB at offset " + offset + ": " + reason)
    {
        Offset = offset;
        Reason = reason;
    }

    public long Offset { get; }

    public string Reason { get; }
}
