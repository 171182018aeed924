using System.Text;
using Psyncd.Protocol;

namespace Psyncd.Execution;

/// <summary>
/// What the dispatcher needs to know of a command, in Redis's terms (the letters are redis.c's 2.8 table).
/// The dispatcher, not the handlers, enforces these.
/// </summary>
[Flags]
public enum CommandFlags
{
    None = 0,

    /// <summary>w: may modify the dataset; refused on read-only replicas and under MISCONF/NOREPLICAS.</summary>
    Write = 1 << 0,

    /// <summary>r: never modifies the dataset.</summary>
    ReadOnly = 1 << 1,

    /// <summary>m: may grow memory; refused with OOM when over maxmemory or when the log is full.</summary>
    DenyOom = 1 << 2,

    /// <summary>a: an administrative command.</summary>
    Admin = 1 << 3,

    /// <summary>p: a pub/sub command.</summary>
    PubSub = 1 << 4,

    /// <summary>s: not allowed from scripts.</summary>
    NoScript = 1 << 5,

    /// <summary>R: non-deterministic.</summary>
    Random = 1 << 6,

    /// <summary>S: output sorted when called from scripts.</summary>
    SortForScript = 1 << 7,

    /// <summary>l: allowed while the dataset is loading.</summary>
    Loading = 1 << 8,

    /// <summary>t: allowed on a replica with a stale dataset (slave-serve-stale-data no).</summary>
    Stale = 1 << 9,

    /// <summary>M: not shown to MONITOR clients.</summary>
    SkipMonitor = 1 << 10,

    /// <summary>F: O(1) or O(log N); never delays the server.</summary>
    Fast = 1 << 11,

    /// <summary>Never in the slow log (EXEC: the commands it runs are logged each, as in Redis 7).</summary>
    SkipSlowlog = 1 << 12,

    // ---- psyncd's own dispatch flags (not shown by COMMAND) ----

    /// <summary>Runs at once even inside MULTI (MULTI, EXEC, DISCARD, WATCH...).</summary>
    NotQueued = 1 << 16,

    /// <summary>Allowed while the connection is in subscribed mode.</summary>
    AllowedWhileSubscribed = 1 << 17,

    /// <summary>Allowed before AUTH when a password is required.</summary>
    NoAuth = 1 << 18,

    /// <summary>Never propagated as itself (EXEC, MULTI...: what they run is propagated).</summary>
    NoPropagate = 1 << 19,

    /// <summary>Propagated even when nothing changed (PUBLISH, FLUSHALL...).</summary>
    AlwaysPropagate = 1 << 20,

    /// <summary>Touches keys it did not name (SCAN, RANDOMKEY, KEYS): its expiry DELs are not wrapped in MULTI.</summary>
    TouchesArbitraryKeys = 1 << 21,

    /// <summary>Runs only as <c>enable-debug-command</c> allows (Redis 7's CMD_PROTECTED: DEBUG).</summary>
    Protected = 1 << 22,

    /// <summary>Refused inside MULTI (Redis 7's CMD_NO_MULTI: SAVE, SHUTDOWN, SYNC, PSYNC).</summary>
    NoMulti = 1 << 23,

    /// <summary>Served while a script is busy (Redis 7's CMD_ALLOW_BUSY: AUTH, MULTI, WATCH, SHUTDOWN NOSAVE, SCRIPT KILL...).</summary>
    AllowBusy = 1 << 24,

    /// <summary>
    /// Shown to MONITOR clients before it runs rather than after (EVAL, EVALSHA): the commands its script runs are
    /// shown as they run, and must come after it, as in Redis 7.0 where these commands feed MONITOR themselves.
    /// </summary>
    MonitorFirst = 1 << 25,
}

/// <summary>Executes one command: parse arguments, call the keyspace, write the reply.</summary>
public delegate void CommandHandler(CommandContext ctx, in CommandArgs args);

/// <summary>One entry of the command table (Redis's redisCommand).</summary>
public sealed class CommandDescriptor
{
    public CommandDescriptor(string name, int arity, CommandFlags flags, CommandHandler handler, int firstKey = 0, int lastKey = 0, int step = 0)
    {
        Name = name.ToLowerInvariant();
        NameBytes = Encoding.ASCII.GetBytes(Name);
        Arity = arity;
        Flags = flags;
        Handler = handler;
        FirstKey = firstKey;
        LastKey = lastKey;
        Step = step;
    }

    /// <summary>Lower-case name, as COMMAND and INFO commandstats show it.</summary>
    public string Name { get; }

    public byte[] NameBytes { get; }

    /// <summary>Argument count, the name included; negative means "at least -Arity".</summary>
    public int Arity { get; }

    public CommandFlags Flags { get; }

    public CommandHandler Handler { get; }

    /// <summary>Position of the first key argument (0: none).</summary>
    public int FirstKey { get; }

    /// <summary>Position of the last key argument; negative counts from the end (-1: the last argument).</summary>
    public int LastKey { get; }

    /// <summary>Distance between key arguments.</summary>
    public int Step { get; }

    public bool Has(CommandFlags flag) => (Flags & flag) != 0;

    /// <summary>
    /// For a container command (CONFIG, CLIENT, OBJECT...): Redis 7's subcommands and their arities (the
    /// subcommand counted as the name's second word, as in <c>config|get</c>). The dispatcher refuses an
    /// unknown subcommand, or a wrong argument count, before the command runs or is queued, as Redis 7 does.
    /// </summary>
    public (string Name, int Arity)[]? Subcommands { get; internal set; }

    /// <summary>The subcommand named by <paramref name="name"/> (any case); false when there is none.</summary>
    public bool TryFindSubcommand(ReadOnlySpan<byte> name, out (string Name, int Arity) subcommand)
    {
        foreach (var candidate in Subcommands ?? [])
        {
            if (name.Length == candidate.Name.Length && Ascii.EqualsIgnoreCase(name, candidate.Name))
            {
                subcommand = candidate;
                return true;
            }
        }
        subcommand = default;
        return false;
    }

    /// <summary>True when <paramref name="argCount"/> arguments (name included) satisfy the arity.</summary>
    public bool AcceptsArgCount(int argCount) => Arity >= 0 ? argCount == Arity : argCount >= -Arity;

    // ---- Statistics (INFO commandstats), updated by the dispatcher ----

    public long Calls { get; set; }

    public long Microseconds { get; set; }

    /// <summary>LATENCY HISTOGRAM's distribution of this command (null until its first call is recorded).</summary>
    public LatencyHistogram? Histogram { get; set; }

    /// <summary>A container command's distributions, by subcommand (Redis keeps them as <c>config|get</c>...).</summary>
    public Dictionary<string, LatencyHistogram>? SubcommandHistograms { get; set; }

    /// <summary>Records a call's duration in the command's histogram, or its subcommand's for a container.</summary>
    public void RecordLatency(in Protocol.CommandArgs args, long microseconds)
    {
        if (Subcommands is not null && args.Count > 1 && TryFindSubcommand(args[1], out var sub))
        {
            SubcommandHistograms ??= new Dictionary<string, LatencyHistogram>(StringComparer.Ordinal);
            if (!SubcommandHistograms.TryGetValue(sub.Name, out var histogram))
                SubcommandHistograms[sub.Name] = histogram = new LatencyHistogram();
            histogram.Record(microseconds);
            return;
        }
        RecordLatency(microseconds);
    }

    /// <summary>Records a call's duration in the command's own histogram (a blocking command's, when its wait ends).</summary>
    public void RecordLatency(long microseconds) => (Histogram ??= new LatencyHistogram()).Record(microseconds);
}
