using System.Text;
using System.Text.Json;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Text;

namespace Psyncd.Admin;

/// <summary>Server commands: COMMAND, SHUTDOWN, MONITOR, SLOWLOG.</summary>
internal sealed class ServerCommands
{
    private readonly CommandTable _table;
    private readonly ClientRegistry _clients;
    private readonly SlowLog _slowLog;
    private readonly IShutdown _shutdown;
    private readonly CommandCatalog _catalog = new();

    public ServerCommands(CommandTable table, ClientRegistry clients, SlowLog slowLog, IShutdown shutdown)
    {
        _table = table;
        _clients = clients;
        _slowLog = slowLog;
        _shutdown = shutdown;
    }

    public void Register(CommandTable table)
    {
        table.Add("command", -1, CommandFlags.ReadOnly | CommandFlags.Loading | CommandFlags.Stale, Command);
        table.AddSubcommands("command", ("getkeysandflags", -4), ("help", 2), ("list", -2), ("info", -2), ("count", 2), ("docs", -2), ("getkeys", -4));
        table.Add("shutdown", -1, CommandFlags.Admin | CommandFlags.ReadOnly | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.NoScript | CommandFlags.NoMulti, Shutdown);
        table.Add("monitor", 1, CommandFlags.Admin | CommandFlags.ReadOnly | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Monitor);
        table.Add("slowlog", -2, CommandFlags.Admin | CommandFlags.ReadOnly | CommandFlags.Loading | CommandFlags.Stale, Slowlog);
        table.AddSubcommands("slowlog", ("len", 2), ("help", 2), ("get", -2), ("reset", 2));
    }

    // ------------------------------------------------------------------
    // COMMAND
    // ------------------------------------------------------------------

    private void Command(CommandContext ctx, in CommandArgs args)
    {
        var table = _table;
        var reply = ctx.Reply;
        if (args.Count == 1)
        {
            reply.WriteArrayHeader(table.Count);
            foreach (var cmd in table.All)
                WriteCommandInfo(reply, cmd);
            return;
        }
        var sub = args[1];
        if (Keyword.Is(sub, "COUNT"u8))
        {
            reply.WriteInteger(table.Count); // its arity was checked by the dispatcher
        }
        else if (Keyword.Is(sub, "INFO"u8))
        {
            if (args.Count == 2)
            {
                reply.WriteArrayHeader(table.Count);
                foreach (var cmd in table.All)
                    WriteCommandInfo(reply, cmd);
                return;
            }
            reply.WriteArrayHeader(args.Count - 2);
            for (int i = 2; i < args.Count; i++)
            {
                string name = Encoding.UTF8.GetString(args[i]);
                if (table.Find(args[i]) is { } cmd)
                    WriteCommandInfo(reply, cmd);
                else if (name.Contains('|') && table.Find(name[..name.IndexOf('|')]) is not null && _catalog.TryGet(name, out var subInfo))
                    CommandCatalog.Write(reply, subInfo);
                else
                    reply.WriteNullBulk();
            }
        }
        else if (Keyword.Is(sub, "DOCS"u8))
        {
            Docs(ctx, args);
        }
        else if (Keyword.Is(sub, "LIST"u8))
        {
            List(ctx, args);
        }
        else if (Keyword.Is(sub, "GETKEYS"u8) || Keyword.Is(sub, "GETKEYSANDFLAGS"u8))
        {
            GetKeys(ctx, args, withFlags: Keyword.Is(sub, "GETKEYSANDFLAGS"u8));
        }
        else if (Keyword.Is(sub, "HELP"u8))
        {
            HelpReply.Write(reply, "COMMAND", s_commandHelp);
        }
        else
        {
            reply.WriteError(ErrorReplies.UnknownSubcommand(sub, "COMMAND"));
        }
    }

    private static readonly string[] s_commandHelp =
    {
        "(no subcommand)",
        "    Describe every command of the server.",
        "COUNT",
        "    Answer how many commands the server has.",
        "LIST [FILTERBY (MODULE <module-name>|ACLCAT <category>|PATTERN <pattern>)]",
        "    Name every command and subcommand, or those of an ACL category or a glob pattern.",
        "INFO [<command-name> ...]",
        "    Describe the given commands (all when none is named): arity, flags, keys, categories.",
        "DOCS [<command-name> ...]",
        "    Answer the documentation of the given commands (all when none is named).",
        "GETKEYS <full-command>",
        "    Answer the key names in a full command line.",
        "GETKEYSANDFLAGS <full-command>",
        "    Answer the key names in a full command line, each with how the command uses it.",
    };

    /// <summary>COMMAND DOCS [name ...]: a map from each known command to its documentation; unknown names are left out.</summary>
    private void Docs(CommandContext ctx, in CommandArgs args)
    {
        var reply = ctx.Reply;
        var found = new List<(string Name, JsonElement? Docs)>();
        if (args.Count == 2)
        {
            foreach (var cmd in _table.All)
                found.Add((cmd.Name, DocsOf(cmd.Name)));
        }
        else
        {
            for (int i = 2; i < args.Count; i++)
            {
                string name = Encoding.UTF8.GetString(args[i]).ToLowerInvariant();
                if (_table.Find(args[i]) is { } cmd)
                    found.Add((cmd.Name, DocsOf(cmd.Name)));
                else if (name.Contains('|') && _table.Find(name[..name.IndexOf('|')]) is { } container && DocsOf(container.Name) is { } docs
                    && docs.TryGetProperty("subcommands", out var subs) && subs.TryGetProperty(name, out var subDocs))
                    found.Add((name, subDocs));
            }
        }
        reply.WriteMapHeader(found.Count);
        foreach (var (name, docs) in found)
        {
            reply.WriteBulk(name);
            if (docs is { } known)
            {
                CommandCatalog.Write(reply, known);
            }
            else
            {
                // A command the data file does not describe yet (scripts/command-data writes it).
                reply.WriteMapHeader(3);
                reply.WriteBulk("summary"u8);
                reply.WriteBulk(""u8);
                reply.WriteBulk("since"u8);
                reply.WriteBulk(""u8);
                reply.WriteBulk("group"u8);
                reply.WriteBulk("generic"u8);
            }
        }
    }

    private JsonElement? DocsOf(string name) => _catalog.TryGet(name, out var entry) ? entry.GetProperty("docs") : null;

    /// <summary>COMMAND LIST [FILTERBY MODULE name|ACLCAT category|PATTERN pattern]: command and subcommand names.</summary>
    private void List(CommandContext ctx, in CommandArgs args)
    {
        Func<string, bool> keep;
        if (args.Count == 2)
        {
            keep = _ => true;
        }
        else if (args.Count == 5 && Keyword.Is(args[2], "FILTERBY"u8))
        {
            var filter = args[3];
            string value = Encoding.UTF8.GetString(args[4]);
            byte[] pattern = args[4].ToArray();
            if (Keyword.Is(filter, "MODULE"u8))
                keep = _ => false; // psyncd loads no modules
            else if (Keyword.Is(filter, "ACLCAT"u8))
                keep = name => _catalog.InCategory(name, value);
            else if (Keyword.Is(filter, "PATTERN"u8))
                keep = name => GlobMatcher.IsMatch(pattern, Encoding.UTF8.GetBytes(name), ignoreCase: true);
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        else
        {
            ctx.SyntaxError();
            return;
        }
        var names = new List<string>();
        foreach (var cmd in _table.All)
        {
            if (keep(cmd.Name))
                names.Add(cmd.Name);
            foreach (var sub in _catalog.SubcommandNames(cmd.Name))
            {
                if (keep(sub))
                    names.Add(sub);
            }
        }
        ctx.Reply.WriteArrayHeader(names.Count);
        foreach (var name in names)
            ctx.Reply.WriteBulk(name);
    }

    /// <summary>COMMAND GETKEYS|GETKEYSANDFLAGS command [arg ...]: the keys of a full command line, as redis-server 7.0 finds them.</summary>
    private void GetKeys(CommandContext ctx, in CommandArgs args, bool withFlags)
    {
        var line = new List<byte[]>(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
            line.Add(args[i].ToArray());
        var cmd = _table.Find(line[0]);
        JsonElement info = default;
        string name = cmd?.Name ?? "";
        bool known = cmd is not null && _catalog.TryGet(name, out var entry) && (info = CommandCatalog.Info(entry)).ValueKind == JsonValueKind.Array;
        // A container's subcommand is the command whose keys count (OBJECT ENCODING key).
        if (known && info[9].ValueKind == JsonValueKind.Array && line.Count >= 2)
        {
            name += "|" + Encoding.UTF8.GetString(line[1]).ToLowerInvariant();
            known = _catalog.TryGet(name, out info);
        }
        if (!known)
        {
            ctx.Reply.WriteError("ERR Invalid command specified"u8);
            return;
        }
        if (info[8].GetProperty("~").GetArrayLength() == 0)
        {
            ctx.Reply.WriteError("ERR The command has no key arguments"u8);
            return;
        }
        int arity = info[1].GetInt32();
        if ((arity > 0 && arity != line.Count) || line.Count < -arity)
        {
            ctx.Reply.WriteError("ERR Invalid number of arguments specified for command"u8);
            return;
        }
        var keys = new List<(int Index, JsonElement Flags)>();
        if (CommandCatalog.TryGetKeys(name, info, line, keys) == CommandCatalog.KeysResult.Invalid)
        {
            ctx.Reply.WriteError("ERR Invalid arguments specified for command"u8);
            return;
        }
        ctx.Reply.WriteArrayHeader(keys.Count);
        foreach (var (index, flags) in keys)
        {
            if (withFlags)
            {
                ctx.Reply.WriteArrayHeader(2);
                ctx.Reply.WriteBulk(line[index]);
                CommandCatalog.WriteKeyFlags(ctx.Reply, name, line, flags);
            }
            else
            {
                ctx.Reply.WriteBulk(line[index]);
            }
        }
    }

    private static readonly (CommandFlags Flag, string Name)[] s_flagNames =
    {
        (CommandFlags.Write, "write"),
        (CommandFlags.ReadOnly, "readonly"),
        (CommandFlags.DenyOom, "denyoom"),
        (CommandFlags.Admin, "admin"),
        (CommandFlags.PubSub, "pubsub"),
        (CommandFlags.NoScript, "noscript"),
        (CommandFlags.Loading, "loading"),
        (CommandFlags.Stale, "stale"),
        (CommandFlags.SkipMonitor, "skip_monitor"),
        (CommandFlags.SkipSlowlog, "skip_slowlog"),
        (CommandFlags.Fast, "fast"),
        (CommandFlags.NoAuth, "no_auth"),
    };

    /// <summary>
    /// One command as COMMAND INFO shows it in redis-server 7.0: [name, arity, flags, first key, last key,
    /// step, ACL categories, tips, key specs, subcommands]. The name is the table's (rename-command); the
    /// rest comes from the command data (a container's key positions are 0 there, where the dispatcher keeps
    /// its subcommands'). A command the data lacks gets the descriptor's flags and key positions and empty
    /// categories, tips and key specs.
    /// </summary>
    private void WriteCommandInfo(ReplyWriter reply, CommandDescriptor cmd)
    {
        bool known = _catalog.TryGet(cmd.Name, out var entry);
        var info = known ? CommandCatalog.Info(entry) : default;
        reply.WriteArrayHeader(10);
        reply.WriteBulk(cmd.NameBytes);
        if (known)
        {
            for (int i = 1; i < 10; i++)
                CommandCatalog.Write(reply, info[i]);
            return;
        }
        reply.WriteInteger(cmd.Arity);
        int flags = 0;
        foreach (var (flag, _) in s_flagNames)
        {
            if (cmd.Has(flag))
                flags++;
        }
        reply.WriteSetHeader(flags);
        foreach (var (flag, name) in s_flagNames)
        {
            if (cmd.Has(flag))
                reply.WriteSimpleString(name);
        }
        reply.WriteInteger(cmd.FirstKey);
        reply.WriteInteger(cmd.LastKey);
        reply.WriteInteger(cmd.Step);
        reply.WriteSetHeader(0);
        reply.WriteSetHeader(0);
        reply.WriteSetHeader(0);
        reply.WriteSetHeader(0);
    }

    // ------------------------------------------------------------------
    // SHUTDOWN, MONITOR
    // ------------------------------------------------------------------

    /// <summary>
    /// SHUTDOWN [NOSAVE|SAVE] [NOW] [FORCE]: saves when asked (or when save points are configured and NOSAVE
    /// is not given), then stops the server; the client gets no reply. A failed save keeps the server
    /// running (unless FORCE) and answers an error.
    /// </summary>
    private void Shutdown(CommandContext ctx, in CommandArgs args)
    {
        bool? save = null;
        bool force = false;
        for (int i = 1; i < args.Count; i++)
        {
            if (Keyword.Is(args[i], "NOSAVE"u8))
                save = false;
            else if (Keyword.Is(args[i], "SAVE"u8))
                save = true;
            else if (Keyword.Is(args[i], "FORCE"u8))
                force = true;
            else if (Keyword.Is(args[i], "NOW"u8))
                continue;
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        if (!_shutdown.Shutdown(save, force, "User requested shutdown..."))
            ctx.Reply.WriteError("ERR Errors trying to SHUTDOWN. Check logs."u8);
    }

    /// <summary>MONITOR: +OK, then every command the server runs, in redis-server's format.</summary>
    private void Monitor(CommandContext ctx, in CommandArgs args)
    {
        var client = ctx.Client;
        if (client.Has(ClientFlags.Replica) || client.Has(ClientFlags.Monitor))
            return;
        client.Flags |= ClientFlags.Monitor;
        _clients.Monitors.Add(client);
        ctx.Reply.WriteOk();
    }

    // ------------------------------------------------------------------
    // SLOWLOG
    // ------------------------------------------------------------------

    private static readonly string[] s_slowlogHelp =
    {
        "GET [<count>]",
        "    Answer the <count> most recent entries (10 when not given, -1 for all of them).",
        "LEN",
        "    Answer how many entries the slow log holds.",
        "RESET",
        "    Empty the slow log.",
    };

    private void Slowlog(CommandContext ctx, in CommandArgs args)
    {
        var log = _slowLog;
        var sub = args[1];
        if (Keyword.Is(sub, "GET"u8) && args.Count <= 3)
        {
            long count = 10;
            if (args.Count == 3 && (!Numbers.TryParseInt64(args[2], out count) || count < -1))
            {
                ctx.Reply.WriteError("ERR count should be greater than or equal to -1"u8);
                return;
            }
            if (count == -1 || count > log.Count)
                count = log.Count;
            ctx.Reply.WriteArrayHeader(count);
            foreach (var entry in log.Entries)
            {
                if (count-- == 0)
                    break;
                ctx.Reply.WriteArrayHeader(6);
                ctx.Reply.WriteInteger(entry.Id);
                ctx.Reply.WriteInteger(entry.UnixTime);
                ctx.Reply.WriteInteger(entry.Microseconds);
                ctx.Reply.WriteArrayHeader(entry.Args.Length);
                foreach (var arg in entry.Args)
                    ctx.Reply.WriteBulk(arg);
                ctx.Reply.WriteBulk(entry.ClientAddress);
                ctx.Reply.WriteBulk(entry.ClientName);
            }
        }
        else if (Keyword.Is(sub, "LEN"u8) && args.Count == 2)
        {
            ctx.Reply.WriteInteger(log.Count);
        }
        else if (Keyword.Is(sub, "HELP"u8) && args.Count == 2)
        {
            HelpReply.Write(ctx.Reply, "SLOWLOG", s_slowlogHelp);
        }
        else if (Keyword.Is(sub, "RESET"u8) && args.Count == 2)
        {
            log.Reset();
            ctx.Reply.WriteOk();
        }
        else if (Keyword.Is(sub, "GET"u8) || Keyword.Is(sub, "LEN"u8) || Keyword.Is(sub, "RESET"u8))
        {
            ctx.Reply.WriteError("ERR wrong number of arguments for 'slowlog|" + Encoding.UTF8.GetString(sub).ToLowerInvariant() + "' command");
        }
        else
        {
            ctx.Reply.WriteError(ErrorReplies.UnknownSubcommand(sub, "SLOWLOG"));
        }
    }
}
