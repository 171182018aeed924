namespace Psyncd.Protocol;

/// <summary>
/// Bounds checked on every untrusted length before anything is allocated for it. The values are the
/// ones redis-server uses (networking.c), so a client sees the same protocol errors at the same sizes.
/// </summary>
public static class RespLimits
{
    /// <summary>Longest inline request, and longest <c>*N</c> or <c>$N</c> header line (PROTO_INLINE_MAX_SIZE).</summary>
    public const int MaxInlineSize = 64 * 1024;

    /// <summary>Most arguments in one multibulk request (Redis 2.8 refuses more than 1024*1024).</summary>
    public const int MaxMultibulkLength = 1024 * 1024;

    /// <summary>Largest bulk argument (proto-max-bulk-len's default, 512 MB).</summary>
    public const long MaxBulkLength = 512L * 1024 * 1024;

    /// <summary>Most arguments in a multibulk from a client that has not authenticated yet (Redis 7).</summary>
    public const int MaxUnauthenticatedArgs = 10;

    /// <summary>Largest bulk argument from a client that has not authenticated yet (Redis 7: 16 KB).</summary>
    public const int MaxUnauthenticatedBulk = 16 * 1024;
}
