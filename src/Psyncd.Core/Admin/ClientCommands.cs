using System.Globalization;
using System.Text;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Text;

namespace Psyncd.Admin;

/// <summary>CLIENT LIST / INFO / KILL / SETNAME / GETNAME / PAUSE / ID.</summary>
internal sealed class ClientCommands
{
    private readonly ClientRegistry _clients;
    private readonly ClientPause _pause;
    private readonly ServerLog _log;

    public ClientCommands(ClientRegistry clients, ClientPause pause, ServerLog log)
    {
        _clients = clients;
        _pause = pause;
        _log = log;
    }

    public void Register(CommandTable table)
    {
        table.Add("client", -2, CommandFlags.Admin | CommandFlags.ReadOnly | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Client);
        table.AddSubcommands("client", ("getredir", 2), ("trackinginfo", 2), ("reply", 3), ("setname", 3), ("no-evict", 3), ("info", 2), ("id", 2),
            ("tracking", -3), ("help", 2), ("unblock", -3), ("getname", 2), ("caching", 3), ("list", -2), ("pause", -3), ("unpause", 2), ("kill", -3));
    }

    private void Client(CommandContext ctx, in CommandArgs args)
    {
        var sub = args[1];
        if (Keyword.Is(sub, "LIST"u8))
            List(ctx, args);
        else if (Keyword.Is(sub, "INFO"u8) && Arity(ctx, args, "info", 2, 2))
            ctx.Reply.WriteVerbatim(ClientListFormat.Line(ctx.Client) + "\n");
        else if (Keyword.Is(sub, "KILL"u8) && Arity(ctx, args, "kill", 3, int.MaxValue))
            Kill(ctx, args);
        else if (Keyword.Is(sub, "SETNAME"u8) && Arity(ctx, args, "setname", 3, 3))
            SetName(ctx, args[2]);
        else if (Keyword.Is(sub, "GETNAME"u8) && Arity(ctx, args, "getname", 2, 2))
        {
            if (ctx.Client.Name is null)
                ctx.Reply.WriteNullBulk();
            else
                ctx.Reply.WriteBulk(ctx.Client.Name);
        }
        else if (Keyword.Is(sub, "PAUSE"u8) && Arity(ctx, args, "pause", 3, 4))
            Pause(ctx, args);
        else if (Keyword.Is(sub, "ID"u8) && Arity(ctx, args, "id", 2, 2))
            ctx.Reply.WriteInteger(ctx.Client.Id);
        else if (Keyword.Is(sub, "HELP"u8) && args.Count == 2)
            Help(ctx);
        else if (!IsKnown(sub))
            ctx.Reply.WriteError(ErrorReplies.UnknownSubcommand(sub, "CLIENT"));
    }

    private static bool IsKnown(ReadOnlySpan<byte> sub)
        => Keyword.Is(sub, "INFO"u8) || Keyword.Is(sub, "KILL"u8) || Keyword.Is(sub, "SETNAME"u8) || Keyword.Is(sub, "GETNAME"u8)
           || Keyword.Is(sub, "PAUSE"u8) || Keyword.Is(sub, "ID"u8);

    /// <summary>Checks a subcommand's argument count; replies Redis 7's error and returns false when it is wrong.</summary>
    private bool Arity(CommandContext ctx, in CommandArgs args, string sub, int min, int max)
    {
        if (args.Count >= min && args.Count <= max)
            return true;
        ctx.Reply.WriteError("ERR wrong number of arguments for 'client|" + sub + "' command");
        return false;
    }

    private static void Help(CommandContext ctx) => HelpReply.Write(ctx.Reply, "CLIENT", s_help);

    private static readonly string[] s_help =
    {
        "GETNAME",
        "    Answer this connection's name.",
        "ID",
        "    Answer this connection's id.",
        "INFO",
        "    Describe this connection, as CLIENT LIST does.",
        "KILL <ip:port>",
        "    Close the connection from <ip:port>.",
        "KILL <filter> <value> [<filter> <value> ...]",
        "    Close the connections that match every filter:",
        "    * ADDR (<ip:port>|<unixsocket>:0)   the peer's address",
        "    * LADDR (<ip:port>|<unixsocket>:0)  the server side's address",
        "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)  the kind of connection",
        "    * ID <client-id>                    the connection's id",
        "    * SKIPME (YES|NO)                   spare this connection (yes unless told)",
        "LIST [TYPE (NORMAL|MASTER|REPLICA|PUBSUB)]",
        "    Describe every connection (or those of one kind), one line each.",
        "PAUSE <timeout> [WRITE|ALL]",
        "    Hold back the clients' commands for <timeout> milliseconds.",
        "SETNAME <name>",
        "    Name this connection.",
    };

    private enum ClientType
    {
        Normal,
        Replica,
        Master,
        PubSub,
    }

    private static bool TryParseType(ReadOnlySpan<byte> text, out ClientType type)
    {
        if (Keyword.Is(text, "normal"u8))
            type = ClientType.Normal;
        else if (Keyword.Is(text, "slave"u8) || Keyword.Is(text, "replica"u8))
            type = ClientType.Replica;
        else if (Keyword.Is(text, "master"u8))
            type = ClientType.Master;
        else if (Keyword.Is(text, "pubsub"u8))
            type = ClientType.PubSub;
        else
        {
            type = default;
            return false;
        }
        return true;
    }

    /// <summary>Redis's getClientType: replicas and our master by flag, then subscribers, then normal (MONITOR clients are normal).</summary>
    private static ClientType TypeOf(Client client)
    {
        if (client.Has(ClientFlags.Master))
            return ClientType.Master;
        if (client.Has(ClientFlags.Replica) && !client.Has(ClientFlags.Monitor))
            return ClientType.Replica;
        if (client.SubscriptionCount > 0)
            return ClientType.PubSub;
        return ClientType.Normal;
    }

    /// <summary>CLIENT LIST [TYPE type] [ID id ...]: one line per client, as redis-server writes them.</summary>
    private void List(CommandContext ctx, in CommandArgs args)
    {
        ClientType? type = null;
        HashSet<long>? ids = null;
        if (args.Count == 4 && Keyword.Is(args[2], "TYPE"u8))
        {
            if (!TryParseType(args[3], out var t))
            {
                ctx.Reply.WriteError("ERR Unknown client type '" + Encoding.UTF8.GetString(args[3]) + "'");
                return;
            }
            type = t;
        }
        else if (args.Count >= 4 && Keyword.Is(args[2], "ID"u8))
        {
            ids = new HashSet<long>();
            for (int i = 3; i < args.Count; i++)
            {
                if (!Numbers.TryParseInt64(args[i], out long id) || id <= 0)
                {
                    ctx.Reply.WriteError("ERR Invalid client ID");
                    return;
                }
                ids.Add(id);
            }
        }
        else if (args.Count != 2)
        {
            ctx.SyntaxError();
            return;
        }
        var sb = new StringBuilder();
        foreach (var client in _clients.Clients.Values.OrderBy(c => c.Id))
        {
            // A client being closed (killed, over its output limit) is gone for Redis, which frees it before
            // the next command runs; here its connection ends on another thread a moment later.
            if (client.Has(ClientFlags.CloseAsap))
                continue;
            if (type is not null && TypeOf(client) != type)
                continue;
            if (ids is not null && !ids.Contains(client.Id))
                continue;
            sb.Append(ClientListFormat.Line(client)).Append('\n');
        }
        ctx.Reply.WriteVerbatim(sb.ToString());
    }

    /// <summary>CLIENT KILL ip:port (old form: +OK or "No such client") or CLIENT KILL filter value ... (new form: the count killed).</summary>
    private void Kill(CommandContext ctx, in CommandArgs args)
    {
        if (args.Count == 3)
        {
            string address = Encoding.UTF8.GetString(args[2]);
            foreach (var client in _clients.Clients.Values)
            {
                if (client.Address == address)
                {
                    ctx.Reply.WriteOk();
                    Close(ctx, client);
                    return;
                }
            }
            ctx.Reply.WriteError("ERR No such client");
            return;
        }
        if (args.Count % 2 != 0)
        {
            ctx.SyntaxError();
            return;
        }
        long? id = null;
        string? addr = null;
        string? laddr = null;
        ClientType? type = null;
        bool skipMe = true;
        for (int i = 2; i < args.Count; i += 2)
        {
            var option = args[i];
            var value = args[i + 1];
            if (Keyword.Is(option, "ID"u8))
            {
                if (!Numbers.TryParseInt64(value, out long v) || v <= 0)
                {
                    ctx.Reply.WriteError("ERR client-id should be greater than 0");
                    return;
                }
                id = v;
            }
            else if (Keyword.Is(option, "TYPE"u8))
            {
                if (!TryParseType(value, out var t))
                {
                    ctx.Reply.WriteError("ERR Unknown client type '" + Encoding.UTF8.GetString(value) + "'");
                    return;
                }
                type = t;
            }
            else if (Keyword.Is(option, "ADDR"u8))
                addr = Encoding.UTF8.GetString(value);
            else if (Keyword.Is(option, "LADDR"u8))
                laddr = Encoding.UTF8.GetString(value);
            else if (Keyword.Is(option, "SKIPME"u8))
            {
                if (Keyword.Is(value, "yes"u8))
                    skipMe = true;
                else if (Keyword.Is(value, "no"u8))
                    skipMe = false;
                else
                {
                    ctx.SyntaxError();
                    return;
                }
            }
            else if (Keyword.Is(option, "USER"u8))
            {
                if (!Keyword.Is(value, "default"u8))
                {
                    ctx.Reply.WriteError("ERR No such user '" + Encoding.UTF8.GetString(value) + "'");
                    return;
                }
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        var victims = new List<Client>();
        foreach (var client in _clients.Clients.Values)
        {
            if (id is not null && client.Id != id)
                continue;
            if (addr is not null && client.Address != addr)
                continue;
            if (laddr is not null && client.LocalAddress != laddr)
                continue;
            if (type is not null && TypeOf(client) != type)
                continue;
            if (skipMe && client == ctx.Client)
                continue;
            victims.Add(client);
        }
        ctx.Reply.WriteInteger(victims.Count);
        foreach (var client in victims)
            Close(ctx, client);
    }

    /// <summary>The caller is closed after its reply is written; any other client at once.</summary>
    private void Close(CommandContext ctx, Client client)
    {
        if (client == ctx.Client)
        {
            client.Flags |= ClientFlags.CloseAfterReply;
            return;
        }
        _log.Verbose("Client killed by CLIENT KILL: " + client.Describe());
        client.CloseAsap();
    }

    /// <summary>CLIENT SETNAME: printable ASCII without spaces; empty clears the name.</summary>
    private static void SetName(CommandContext ctx, ReadOnlySpan<byte> name)
    {
        if (ctx.Client.TrySetName(name))
            ctx.Reply.WriteOk();
        else
            ctx.Reply.WriteError(ErrorReplies.BadClientName);
    }

    /// <summary>
    /// CLIENT PAUSE ms [WRITE|ALL]: no client other than replicas and our master runs commands until the
    /// time is up. WRITE is accepted and pauses every client (a superset of Redis's write-only pause).
    /// </summary>
    private void Pause(CommandContext ctx, in CommandArgs args)
    {
        if (!ctx.TryParseTimeoutMs(args[2], out long ms))
            return;
        if (args.Count == 4 && !Keyword.Is(args[3], "WRITE"u8) && !Keyword.Is(args[3], "ALL"u8))
        {
            ctx.SyntaxError();
            return;
        }
        _pause.PauseClients(ms);
        ctx.Reply.WriteOk();
    }
}
