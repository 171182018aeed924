using Psyncd.Config;
using Psyncd.Protocol;
using Psyncd.Server;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.Execution;

/// <summary>
/// What a handler works with: the calling client, its selected database, its reply writer, the server,
/// and the replication stream's propagation controls. One per client, reused for every command.
/// </summary>
public sealed class CommandContext
{
    internal CommandContext(PsyncdServer server, Client client)
    {
        Server = server;
        Client = client;
    }

    public PsyncdServer Server { get; }

    public Client Client { get; }

    /// <summary>Where the reply goes (discarded for the master's link on a replica).</summary>
    public ReplyWriter Reply => Client.Output;

    public Keyspace Keyspace => Server.Keyspace;

    /// <summary>The client's selected database.</summary>
    public Database Db => new(Server.Keyspace, Client.Db);

    public ServerOptions Options => Server.Options;

    /// <summary>True while this server replicates from a master (RESTORE's TTL rule, PUBLISH...).</summary>
    public bool IsReplica => Role.IsReplica;

    /// <summary>The replication role; set by the root's context factory.</summary>
    internal ReplicationState Role { get; init; } = null!;

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
    public ReplyWriter Propagate(int argCount) => Server.Processor.Propagation.Add(Client.Db, argCount, replacesRequest: true);


    /// <summary>The request is not propagated, even though it changed the dataset.</summary>
    public void PreventPropagation() => Server.Processor.Propagation.ReplaceRequest();

    // ------------------------------------------------------------------
    // Reply helpers for the commonest errors
    // ------------------------------------------------------------------

    /// <summary>Reports a keyspace event (notify-keyspace-events) after the change is made.</summary>
    public void Notify(KeyspaceEventClass type, ReadOnlySpan<byte> eventName, int db, ReadOnlySpan<byte> key)
        => Notifier.Notify(type, eventName, db, key);

    /// <summary>Where keyspace events go (pub/sub); set by the root's context factory.</summary>
    internal IKeyspaceNotifier Notifier { get; init; } = null!;

    public void WrongType() => Reply.WriteError(ErrorReplies.WrongType);

    public void SyntaxError() => Reply.WriteError(ErrorReplies.Syntax);

    public void NotInteger() => Reply.WriteError(ErrorReplies.NotInteger);

    public void WrongArgCount() => Reply.WriteError(ErrorReplies.WrongArgCount(Command.Name));

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
