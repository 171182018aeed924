namespace Psyncd.Diagnostics;

/// <summary>
/// Bytes of large buffers dropped since the last reclaim, process-wide as the garbage collector is. Code
/// that lets go of a large buffer (which becomes garbage rather than going back to a pool) notes it here.
/// </summary>
public static class ReleasedMemory
{
    private static long s_dropped;
    private static long s_drained;

    /// <summary>Notes that <paramref name="bytes"/> of buffers were dropped for good (a closed client's output). Any thread.</summary>
    public static void Note(long bytes)
    {
        if (bytes > 0)
            Interlocked.Add(ref s_dropped, bytes);
    }

    /// <summary>Notes that <paramref name="bytes"/> of buffers were let go after use (output that reached the socket). Any thread.</summary>
    public static void NoteDrained(long bytes)
    {
        if (bytes > 0)
            Interlocked.Add(ref s_drained, bytes);
    }

    /// <summary>Bytes noted by <see cref="Note"/> since the last <see cref="Take"/>.</summary>
    public static long Dropped => Volatile.Read(ref s_dropped);

    /// <summary>Bytes noted by <see cref="NoteDrained"/> since the last <see cref="Take"/>.</summary>
    public static long Drained => Volatile.Read(ref s_drained);

    /// <summary>Returns all the bytes noted and starts counting again.</summary>
    public static long Take() => Interlocked.Exchange(ref s_dropped, 0) + Interlocked.Exchange(ref s_drained, 0);
}
