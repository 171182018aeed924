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
        table.Add("swapdb", 3, CommandFlags.Write | CommandFlags.Fast, SwapDb);
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

    /// <summary>
    /// SWAPDB a b: the two databases exchange their keys (clients keep their selected index). Always
    /// propagated, as Redis counts it as a change even for two empty databases.
    /// </summary>
    private static void SwapDb(CommandContext ctx, in CommandArgs args)
    {
        if (!TryParseDbIndex(args[1], out long first))
        {
            ctx.Reply.WriteError("ERR invalid first DB index"u8);
            return;
        }
        if (!TryParseDbIndex(args[2], out long second))
        {
            ctx.Reply.WriteError("ERR invalid second DB index"u8);
            return;
        }
        var keyspace = ctx.Keyspace;
        if (first < 0 || first >= keyspace.DatabaseCount || second < 0 || second >= keyspace.DatabaseCount)
        {
            ctx.Reply.WriteError(ErrorReplies.DbIndexOutOfRange);
            return;
        }
        if (!keyspace.SwapDatabases((int)first, (int)second))
        {
            // psyncd's own limit: the swap parks keys in a database number past the last, and 256 leave none.
            ctx.Reply.WriteError("ERR SWAPDB needs fewer than 256 databases in psyncd"u8);
            return;
        }
        keyspace.Dirty++;
        ctx.Reply.WriteOk();
    }

    /// <summary>A database index as getIntFromObject reads it: an integer within 32 bits.</summary>
    private static bool TryParseDbIndex(ReadOnlySpan<byte> text, out long index)
        => Numbers.TryParseInt64(text, out index) && index >= int.MinValue && index <= int.MaxValue;

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
