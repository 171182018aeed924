namespace Psyncd.Execution;

/// <summary>
/// Error replies, word for word as redis-server writes them (checked against redis-server 7.0.15 where the
/// text changed since 2.8; see each). Handlers write them with <c>ctx.Reply.WriteError(...)</c>.
/// </summary>
public static class ErrorReplies
{
    public static ReadOnlySpan<byte> WrongType => "WRONGTYPE Operation against a key holding the wrong kind of value"u8;

    public static ReadOnlySpan<byte> NotInteger => "ERR value is not an integer or out of range"u8;

    public static ReadOnlySpan<byte> NotFloat => "ERR value is not a valid float"u8;

    public static ReadOnlySpan<byte> Syntax => "ERR syntax error"u8;

    public static ReadOnlySpan<byte> NoSuchKey => "ERR no such key"u8;

    public static ReadOnlySpan<byte> OutOfRange => "ERR index out of range"u8;

    public static ReadOnlySpan<byte> Overflow => "ERR increment or decrement would overflow"u8;

    public static ReadOnlySpan<byte> InvalidExpire => "ERR invalid expire time in 'set' command"u8;

    public static ReadOnlySpan<byte> DbIndexOutOfRange => "ERR DB index is out of range"u8;

    public static ReadOnlySpan<byte> InvalidCursor => "ERR invalid cursor"u8;

    public static ReadOnlySpan<byte> NoAuth => "NOAUTH Authentication required."u8;

    public static ReadOnlySpan<byte> WrongPass => "WRONGPASS invalid username-password pair or user is disabled."u8;

    /// <summary>CLIENT SETNAME and HELLO SETNAME with a byte outside printable ASCII or a space.</summary>
    public static ReadOnlySpan<byte> BadClientName => "ERR Client names cannot contain spaces, newlines or special characters."u8;

    /// <summary>DEBUG refused by <c>enable-debug-command</c> (Redis 7's text).</summary>
    public static ReadOnlySpan<byte> DebugNotAllowed => "ERR DEBUG command not allowed. If the enable-debug-command option is set to \"local\", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server."u8;

    /// <summary>Redis 2.8 spelling, as the replication issue asks (7.0 says "replica").</summary>
    public static ReadOnlySpan<byte> ReadOnlyReplica => "READONLY You can't write against a read only slave."u8;

    public static ReadOnlySpan<byte> Oom => "OOM command not allowed when used memory > 'maxmemory'."u8;

    public static ReadOnlySpan<byte> Loading => "LOADING Redis is loading the dataset in memory"u8;

    public static ReadOnlySpan<byte> ExecAbort => "EXECABORT Transaction discarded because of previous errors."u8;

    public static ReadOnlySpan<byte> NoReplicas => "NOREPLICAS Not enough good slaves to write."u8;

    /// <summary>To clients blocked on a master that turns replica (Redis's disconnectAllBlockedClients).</summary>
    public static ReadOnlySpan<byte> UnblockedRoleChange => "UNBLOCKED force unblock from blocking operation, instance state changed (master -> replica?)"u8;

    public static ReadOnlySpan<byte> MasterDown => "MASTERDOWN Link with MASTER is down and slave-serve-stale-data is set to 'no'."u8;

    public static ReadOnlySpan<byte> Misconf =>
        "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to disk. Commands that may modify the data set are disabled, because this instance is configured to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). Please check the Redis logs for details about the RDB error."u8;

    public static ReadOnlySpan<byte> TimeoutNotInteger => "ERR timeout is not an integer or out of range"u8;

    public static ReadOnlySpan<byte> TimeoutNegative => "ERR timeout is negative"u8;

    /// <summary>INCRBYFLOAT and HINCRBYFLOAT whose result (or stored value) is not finite.</summary>
    public static ReadOnlySpan<byte> IncrementNotFinite => "ERR increment would produce NaN or Infinity"u8;

    public static ReadOnlySpan<byte> NotPositive => "ERR value is out of range, must be positive"u8;

    /// <summary>A DUMP payload whose version or checksum RESTORE refuses.</summary>
    public static ReadOnlySpan<byte> BadDataFormat => "ERR Bad data format"u8;

    /// <summary>EXEC refused as a whole by what changed since its commands were queued (Redis's processCommand text).</summary>
    public static string ExecAbortBecause(ReadOnlySpan<byte> refusal) => "EXECABORT Transaction discarded because of: " + System.Text.Encoding.UTF8.GetString(refusal);

    /// <summary><c>ERR wrong number of arguments for 'name' command</c>.</summary>
    public static string WrongArgCount(string command) => "ERR wrong number of arguments for '" + command + "' command";

    /// <summary>Redis 7's form: <c>ERR unknown command 'foo', with args beginning with: 'a' 'b' </c>.</summary>
    public static string UnknownCommand(string name, IEnumerable<string> args)
    {
        // As processCommand builds it: arguments are added while the list is under 128 characters,
        // each cut to what is left of those 128.
        var list = new System.Text.StringBuilder();
        foreach (var arg in args)
        {
            if (list.Length >= 128)
                break;
            list.Append('\'').Append(Truncate(arg, 128 - list.Length)).Append("' ");
        }
        return "ERR unknown command '" + Truncate(name, 128) + "', with args beginning with: " + list;
    }

    /// <summary>
    /// <c>ERR unknown subcommand 'x'. Try NAME HELP.</c> (addReplySubcommandSyntaxError: the subcommand
    /// printed with <c>%.128s</c>).
    /// </summary>
    public static string UnknownSubcommand(ReadOnlySpan<byte> subcommand, string command)
        => "ERR unknown subcommand '" + CText(subcommand, 128) + "'. Try " + command + " HELP.";

    /// <summary>
    /// An argument as redis-server's <c>"%.Ns"</c> prints it into a message: a C string, so only up to
    /// its first NUL byte, and at most <paramref name="max"/> bytes.
    /// </summary>
    public static string CText(ReadOnlySpan<byte> arg, int max)
    {
        int nul = arg.IndexOf((byte)0);
        if (nul >= 0)
            arg = arg[..nul];
        return System.Text.Encoding.UTF8.GetString(arg.Length <= max ? arg : arg[..max]);
    }

    private static string Truncate(string s, int max) => s.Length <= max ? s : s[..max];
}
