using System.Security.Cryptography;
using System.Text;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>Connection commands: PING, ECHO, QUIT, AUTH, HELLO, SELECT.</summary>
internal static class ConnectionCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("ping", -1, CommandFlags.ReadOnly | CommandFlags.Stale | CommandFlags.Fast | CommandFlags.AllowedWhileSubscribed, Ping);
        table.Add("echo", 2, CommandFlags.ReadOnly | CommandFlags.Fast, Echo);
        table.Add("quit", -1, CommandFlags.ReadOnly | CommandFlags.NoAuth | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.NotQueued | CommandFlags.AllowedWhileSubscribed | CommandFlags.AllowBusy, Quit);
        // AUTH [username] password: Redis 7's form; "default" is the only user (requirepass is its password).
        table.Add("auth", -2, CommandFlags.ReadOnly | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast | CommandFlags.NoAuth | CommandFlags.AllowBusy, Auth);
        table.Add("hello", -1, CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast | CommandFlags.NoAuth | CommandFlags.AllowBusy, Hello);
        table.Add("select", 2, CommandFlags.ReadOnly | CommandFlags.Loading | CommandFlags.Fast, Select);
    }

    /// <summary>PING [message]: PONG, or the message; in RESP2's subscribed mode a ["pong", message] array.</summary>
    private static void Ping(CommandContext ctx, in CommandArgs args)
    {
        if (args.Count > 2)
        {
            ctx.WrongArgCount();
            return;
        }
        if (ctx.Client.SubscriptionCount > 0 && !ctx.Reply.Resp3)
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
        // The password (and user name) never reach the slow log.
        for (int i = 1; i < args.Count; i++)
            ctx.Redact(i);
        if (ctx.Options.RequirePass.Length == 0 && args.Count == 2)
        {
            ctx.Reply.WriteError("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"u8);
            return;
        }
        if (Authenticate(ctx, args.Count == 2 ? "default"u8 : args[1], args[^1]))
            ctx.Reply.WriteOk();
        else
            ctx.Reply.WriteError(ErrorReplies.WrongPass);
    }

    /// <summary>
    /// AUTH's and HELLO AUTH's check: "default" is the only user, requirepass its password; without requirepass
    /// it takes any password (Redis's nopass). Sets the client's state either way.
    /// </summary>
    private static bool Authenticate(CommandContext ctx, ReadOnlySpan<byte> user, ReadOnlySpan<byte> password)
    {
        var required = ctx.Options.RequirePass;
        bool ok = user.SequenceEqual("default"u8)
            && (required.Length == 0 || CryptographicOperations.FixedTimeEquals(password, Encoding.UTF8.GetBytes(required)));
        ctx.Client.Authenticated = ok;
        return ok;
    }

    /// <summary>
    /// HELLO [protover [AUTH user pass] [SETNAME name]]: switches the connection's protocol (2 or 3) and answers
    /// the server's handshake map. As in redis-server 7.0 the options act in order as they are read (a later
    /// syntax error leaves an earlier AUTH or SETNAME done), and an unauthenticated client without AUTH gets
    /// NOAUTH only after them; without a version the protocol stays as it is.
    /// </summary>
    private static void Hello(CommandContext ctx, in CommandArgs args)
    {
        var client = ctx.Client;
        bool resp3 = client.Output.Resp3;
        if (args.Count >= 2)
        {
            if (!Numbers.TryParseInt64(args[1], out long version))
            {
                ctx.Reply.WriteError("ERR Protocol version is not an integer or out of range"u8);
                return;
            }
            if (version is < 2 or > 3)
            {
                ctx.Reply.WriteError("NOPROTO unsupported protocol version"u8);
                return;
            }
            resp3 = version == 3;
        }
        for (int i = 2; i < args.Count; i++)
        {
            int more = args.Count - 1 - i;
            if (Keyword.Is(args[i], "AUTH"u8) && more >= 2)
            {
                ctx.Redact(i + 1);
                ctx.Redact(i + 2);
                if (!Authenticate(ctx, args[i + 1], args[i + 2]))
                {
                    ctx.Reply.WriteError(ErrorReplies.WrongPass);
                    return;
                }
                i += 2;
            }
            else if (Keyword.Is(args[i], "SETNAME"u8) && more >= 1)
            {
                if (!client.TrySetName(args[i + 1]))
                {
                    ctx.Reply.WriteError(ErrorReplies.BadClientName);
                    return;
                }
                i++;
            }
            else
            {
                ctx.Reply.WriteError("ERR Syntax error in HELLO option '" + Encoding.UTF8.GetString(args[i]) + "'");
                return;
            }
        }
        if (!client.Authenticated && ctx.Options.RequirePass.Length > 0)
        {
            ctx.Reply.WriteError("NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"u8);
            return;
        }
        // The reply already speaks the chosen protocol: a map under RESP3, a flat array under RESP2.
        var reply = ctx.Reply;
        reply.Resp3 = resp3;
        reply.WriteMapHeader(7);
        reply.WriteBulk("server"u8);
        reply.WriteBulk("redis"u8);
        reply.WriteBulk("version"u8);
        reply.WriteBulk(ServerIdentity.RedisVersion);
        reply.WriteBulk("proto"u8);
        reply.WriteInteger(resp3 ? 3 : 2);
        reply.WriteBulk("id"u8);
        reply.WriteInteger(client.Id);
        reply.WriteBulk("mode"u8);
        reply.WriteBulk("standalone"u8);
        reply.WriteBulk("role"u8);
        reply.WriteBulk(ctx.IsReplica ? "replica"u8 : "master"u8);
        reply.WriteBulk("modules"u8);
        reply.WriteArrayHeader(0);
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
