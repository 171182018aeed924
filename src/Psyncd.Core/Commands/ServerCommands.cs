using Psyncd.Protocol;

namespace Psyncd.Commands;

/// <summary>Server commands: DBSIZE, FLUSHDB, FLUSHALL.</summary>
internal static class ServerCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("dbsize", 1, CommandFlags.ReadOnly | CommandFlags.Fast, DbSize);
        table.Add("flushdb", -1, CommandFlags.Write, FlushDb);
        table.Add("flushall", -1, CommandFlags.Write, FlushAll);
    }

    private static void DbSize(CommandContext ctx, in CommandArgs args) => ctx.Reply.WriteInteger(ctx.Db.KeyCount);

    private static void FlushDb(CommandContext ctx, in CommandArgs args)
    {
        if (args.Count > 2 || (args.Count == 2 && !Args.Is(args[1], "ASYNC"u8) && !Args.Is(args[1], "SYNC"u8)))
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
        if (args.Count > 2 || (args.Count == 2 && !Args.Is(args[1], "ASYNC"u8) && !Args.Is(args[1], "SYNC"u8)))
        {
            ctx.SyntaxError();
            return;
        }
        ctx.Keyspace.FlushAll();
        ctx.Keyspace.Dirty++;
        ctx.Reply.WriteOk();
    }
}
