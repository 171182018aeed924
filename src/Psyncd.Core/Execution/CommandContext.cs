using Psyncd.Config;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.Execution;

/// <summary>
/// What a handler works with: the calling client, its selected database, its reply writer, the options,
/// the replication stream's propagation controls and keyspace notifications. One per client, reused for every
/// command. Families that need more (a registry, the log...) get it when the root builds them.
/// </summary>
public sealed class CommandContext
{
    private readonly PropagationList _propagation;
    private readonly IKeyspaceNotifier _notifier;
    private readonly ReplicationState _role;
    private readonly CommandProcessor _processor;

    internal CommandContext(Client client, Keyspace keyspace, ServerOptions options, PropagationList propagation,
        IKeyspaceNotifier notifier, ReplicationState role, CommandProcessor processor)
    {
        Client = client;
        Keyspace = keyspace;
        Options = options;
        _propagation = propagation;
        _notifier = notifier;
        _role = role;
        _processor = processor;
    }

    public Client Client { get; }

    /// <summary>Where the reply goes (discarded for the master's link on a replica).</summary>
    public ReplyWriter Reply => Client.Output;

    public Keyspace Keyspace { get; }

    /// <summary>The client's selected database.</summary>
    public Database Db => new(Keyspace, Client.Db);

    public ServerOptions Options { get; }

    /// <summary>True while this server replicates from a master (RESTORE's TTL rule, PUBLISH...).</summary>
    public bool IsReplica => _role.IsReplica;

    /// <summary>True while the command runs inside EXEC (a blocking command must not block there).</summary>
    public bool InExec => _processor.InExec;

    /// <summary>Buffers the command may reuse (one set per server: commands run one at a time).</summary>
    public CommandScratch Scratch => _processor.Scratch;

    /// <summary>The command being executed.</summary>
    public CommandDescriptor Command { get; internal set; } = null!;


    // ------------------------------------------------------------------
    // Propagation (what goes to the replication stream)
    // ------------------------------------------------------------------

    /// <summary>
    /// Propagates a command of <paramref name="argCount"/> arguments <i>instead of</i> the request (for
    /// effects that differ from the request: SET ... PXAT for SET ... EX, SREM for SPOP...). The caller
    /// writes the arguments with <c>WriteBulk</c>. May be called more than once; several commands are
    /// wrapped in MULTI/EXEC, as Redis 7 does.
    /// </summary>
    public ReplyWriter Propagate(int argCount) => _propagation.Add(Client.Db, argCount, replacesRequest: true);


    /// <summary>The request is not propagated, even though it changed the dataset.</summary>
    public void PreventPropagation() => _propagation.ReplaceRequest();

    /// <summary>Argument <paramref name="index"/> is a secret (a password): the slow log shows it as "(redacted)".</summary>
    public void Redact(int index) => _processor.Redact(index);

    /// <summary>Reports a keyspace event (notify-keyspace-events) after the change is made.</summary>
    public void Notify(KeyspaceEventClass type, ReadOnlySpan<byte> eventName, int db, ReadOnlySpan<byte> key)
        => _notifier.Notify(type, eventName, db, key);

    /// <summary>Where keyspace events go (for helpers shared with code that runs outside a command, as serving a blocked client).</summary>
    public IKeyspaceNotifier Notifier => _notifier;

    /// <summary>Reports a keyspace event about a key of the client's selected database.</summary>
    public void Notify(KeyspaceEventClass type, ReadOnlySpan<byte> eventName, ReadOnlySpan<byte> key)
        => _notifier.Notify(type, eventName, Client.Db, key);

    // ------------------------------------------------------------------
    // Reply helpers for the commonest errors
    // ------------------------------------------------------------------

    public void WrongType() => Reply.WriteError(ErrorReplies.WrongType);

    public void SyntaxError() => Reply.WriteError(ErrorReplies.Syntax);

    public void NotInteger() => Reply.WriteError(ErrorReplies.NotInteger);

    public void WrongArgCount() => Reply.WriteError(ErrorReplies.WrongArgCount(Command.Name));

    /// <summary>
    /// Parses a timeout in milliseconds (CLIENT PAUSE, WAIT) as Redis's getTimeoutFromObjectOrReply does for
    /// them: not an integer, or negative, is refused with its own error. False after replying the error.
    /// </summary>
    public bool TryParseTimeoutMs(ReadOnlySpan<byte> text, out long milliseconds)
    {
        if (!Numbers.TryParseInt64(text, out milliseconds))
        {
            Reply.WriteError(ErrorReplies.TimeoutNotInteger);
            return false;
        }
        if (milliseconds < 0)
        {
            Reply.WriteError(ErrorReplies.TimeoutNegative);
            return false;
        }
        return true;
    }

    /// <summary>
    /// Parses an integer that must fit in 32 bits as getIntFromObjectOrReply does (SELECT's and MOVE's
    /// database): not an integer is "not an integer or out of range", an integer beyond 32 bits is "out of
    /// range, value must between ...". False after replying the error.
    /// </summary>
    public bool TryParseInt32(ReadOnlySpan<byte> text, out int value)
    {
        value = 0;
        if (!Numbers.TryParseInt64(text, out long v))
        {
            NotInteger();
            return false;
        }
        if (v < int.MinValue || v > int.MaxValue)
        {
            Reply.WriteError("ERR value is out of range, value must between -2147483648 and 2147483647"u8);
            return false;
        }
        value = (int)v;
        return true;
    }
}
