namespace Psyncd.Replication.Replica;

/// <summary>
/// The last bytes of a diskless payload received so far: the payload ends with a 40-byte mark that may arrive
/// split across any number of network reads, and is looked for here rather than read back from the file.
/// </summary>
internal static class PayloadTail
{
    /// <summary>Keeps in <paramref name="tail"/> the last bytes of everything received so far (<paramref name="length"/> of them, at most its size).</summary>
    public static void Keep(byte[] tail, ref int length, ReadOnlySpan<byte> received)
    {
        int size = tail.Length;
        if (received.Length >= size)
        {
            received[^size..].CopyTo(tail);
            length = size;
            return;
        }
        // The newest bytes already kept that still belong to the tail move to its front, the received ones follow.
        int keep = Math.Min(length, size - received.Length);
        tail.AsSpan(length - keep, keep).CopyTo(tail);
        received.CopyTo(tail.AsSpan(keep));
        length = keep + received.Length;
    }
}
