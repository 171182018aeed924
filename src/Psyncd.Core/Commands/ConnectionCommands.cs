using Psyncd.Execution;
using Psyncd.Protocol;

namespace Psyncd.Commands;

/// <summary>Connection commands: PING, ECHO, QUIT, AUTH, SELECT.</summary>
internal static class ConnectionCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("ping", -1, CommandFlags.ReadOnly | CommandFlags.Stale | CommandFlags.Fast | CommandFlags.AllowedWhileSubscribed, Ping);
        table.Add("echo", 2, CommandFlags.ReadOnly | CommandFlags.Fast, Echo);
        table.Add("quit", -1, CommandFlags.ReadOnly | CommandFlags.NoAuth | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.NotQueued | CommandFlags.AllowedWhileSubscribed | CommandFlags.AllowBusy, Quit);
        // AUTH [username] password: Redis 7's form; "default" is the only user (requirepass is its password).
        table.Add("auth", -2, CommandFlags.ReadOnly | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast | CommandFlags.NoAuth | CommandFlags.SkipMonitor | CommandFlags.AllowBusy, Auth);
        table.Add("select", 2, CommandFlags.ReadOnly | CommandFlags.Loading | CommandFlags.Fast, Select);
    }

    /// <summary>PING [message]: PONG, or the message; in subscribed mode a ["pong", message] array.</summary>
    private static void Ping(CommandContext ctx, in CommandArgs args)
    {
        if (args.Count > 2)
        {
            ctx.WrongArgCount();
            return;
        }
        if (ctx.Client.SubscriptionCount > 0)
        {
            ctx.Reply.WriteArrayHeader(2);
            ctx.Reply.WriteBulk("pong"u8);
            ctx.Reply.WriteBulk(args.Count == 2 ? args[1] : default);
            return;
        }
        if (args.Count == 2)
            ctx.Reply.WriteBulk(args[1]);
        else
            ctx.Reply.WriteRaw("+PONG\r\n"u8);
    }

    private static void Echo(CommandContext ctx, in CommandArgs args) => ctx.Reply.WriteBulk(args[1]);

    /// <summary>QUIT: +OK, then the connection closes once the reply is written.</summary>
    private static void Quit(CommandContext ctx, in CommandArgs args)
    {
        ctx.Reply.WriteOk();
        ctx.Client.Flags |= ClientFlags.CloseAfterReply;
    }

    private static void Auth(CommandContext ctx, in CommandArgs args)
    {
        if (args.Count > 3)
        {
            ctx.SyntaxError();
            return;
        }
        var password = ctx.Options.RequirePass;
        if (password.Length == 0 && args.Count == 2)
        {
            ctx.Reply.WriteError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"u8);
            return;
        }
        bool defaultUser = args.Count == 2 || args[1].SequenceEqual("default"u8);
        // Without requirepass the default user takes any password (Redis's nopass).
        if (defaultUser && (password.Length == 0
            || System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(args[^1], System.Text.Encoding.UTF8.GetBytes(password))))
        {
            ctx.Client.Authenticated = true;
            ctx.Reply.WriteOk();
        }
        else
        {
            ctx.Client.Authenticated = false;
            ctx.Reply.WriteError("WRONGPASS invalid username-password pair or user is disabled."u8);
        }
    }

    private static void Select(CommandContext ctx, in CommandArgs args)
    {
        if (!ctx.TryParseInt32(args[1], out int db))
            return;
        if (db < 0 || db >= ctx.Keyspace.DatabaseCount)
        {
            ctx.Reply.WriteError(ErrorReplies.DbIndexOutOfRange);
            return;
        }
        ctx.Client.Db = db;
        ctx.Reply.WriteOk();
    }
}
