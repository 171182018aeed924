using System.Text;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>Commands on whole databases: DBSIZE, FLUSHDB, FLUSHALL, and TIME.</summary>
internal static class DatabaseCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("dbsize", 1, CommandFlags.ReadOnly | CommandFlags.Fast, DbSize);
        table.Add("flushdb", -1, CommandFlags.Write, FlushDb);
        table.Add("flushall", -1, CommandFlags.Write, FlushAll);
        table.Add("time", 1, CommandFlags.ReadOnly | CommandFlags.Random | CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale, Time);
    }

    private static void DbSize(CommandContext ctx, in CommandArgs args) => ctx.Reply.WriteInteger(ctx.Db.KeyCount);

    private static void FlushDb(CommandContext ctx, in CommandArgs args)
    {
        if (args.Count > 2 || (args.Count == 2 && !Keyword.Is(args[1], "ASYNC"u8) && !Keyword.Is(args[1], "SYNC"u8)))
        {
            ctx.SyntaxError();
            return;
        }
        ctx.Keyspace.FlushDatabase(ctx.Client.Db);
        ctx.Keyspace.Dirty++;
        ctx.Reply.WriteOk();
    }

    private static void FlushAll(CommandContext ctx, in CommandArgs args)
    {
        if (args.Count > 2 || (args.Count == 2 && !Keyword.Is(args[1], "ASYNC"u8) && !Keyword.Is(args[1], "SYNC"u8)))
        {
            ctx.SyntaxError();
            return;
        }
        ctx.Keyspace.FlushAll();
        ctx.Keyspace.Dirty++;
        ctx.Reply.WriteOk();
    }

    /// <summary>TIME: [unix seconds, microseconds] as two bulk strings.</summary>
    private static void Time(CommandContext ctx, in CommandArgs args)
    {
        var now = DateTimeOffset.UtcNow;
        long micros = (now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks) / 10;
        ctx.Reply.WriteArrayHeader(2);
        ctx.Reply.WriteBulk(micros / 1_000_000);
        ctx.Reply.WriteBulk(micros % 1_000_000);
    }
}
