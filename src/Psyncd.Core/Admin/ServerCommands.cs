using System.Text;
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
        table.Add("shutdown", -1, CommandFlags.Admin | CommandFlags.ReadOnly | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.NoScript | CommandFlags.NoMulti | CommandFlags.AllowBusy, Shutdown);
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
        if (args.Count == 1)
        {
            ctx.Reply.WriteArrayHeader(table.Count);
            foreach (var cmd in table.All)
                WriteCommandInfo(ctx.Reply, cmd);
            return;
        }
        var sub = args[1];
        if (Keyword.Is(sub, "COUNT"u8))
        {
            ctx.Reply.WriteInteger(table.Count); // its arity was checked by the dispatcher
        }
        else if (Keyword.Is(sub, "INFO"u8))
        {
            ctx.Reply.WriteArrayHeader(args.Count - 2);
            for (int i = 2; i < args.Count; i++)
            {
                var cmd = table.Find(args[i]);
                if (cmd is null)
                    ctx.Reply.WriteNullBulk();
                else
                    WriteCommandInfo(ctx.Reply, cmd);
            }
        }
        else
        {
            ctx.Reply.WriteError(ErrorReplies.UnknownSubcommand(sub, "COMMAND"));
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
        (CommandFlags.Random, "random"),
        (CommandFlags.SortForScript, "sort_for_script"),
        (CommandFlags.Loading, "loading"),
        (CommandFlags.Stale, "stale"),
        (CommandFlags.SkipMonitor, "skip_monitor"),
        (CommandFlags.SkipSlowlog, "skip_slowlog"),
        (CommandFlags.Fast, "fast"),
    };

    /// <summary>One command as COMMAND shows it: [name, arity, [flags...], first key, last key, step].</summary>
    private static void WriteCommandInfo(ReplyWriter reply, CommandDescriptor cmd)
    {
        reply.WriteArrayHeader(6);
        reply.WriteBulk(cmd.NameBytes);
        reply.WriteInteger(cmd.Arity);
        int flags = 0;
        foreach (var (flag, _) in s_flagNames)
        {
            if (cmd.Has(flag))
                flags++;
        }
        reply.WriteArrayHeader(flags);
        foreach (var (flag, name) in s_flagNames)
        {
            if (cmd.Has(flag))
                reply.WriteSimpleString(name);
        }
        reply.WriteInteger(cmd.FirstKey);
        reply.WriteInteger(cmd.LastKey);
        reply.WriteInteger(cmd.Step);
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
