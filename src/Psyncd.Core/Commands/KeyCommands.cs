using Psyncd.Protocol;
using Psyncd.Storage;

namespace Psyncd.Commands;

/// <summary>Generic key commands.</summary>
internal static class KeyCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("del", -2, CommandFlags.Write, Del, 1, -1, 1);
        table.Add("exists", -2, CommandFlags.ReadOnly | CommandFlags.Fast, Exists, 1, -1, 1);
        table.Add("type", 2, CommandFlags.ReadOnly | CommandFlags.Fast, Type, 1, 1, 1);
    }

    private static void Del(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        long deleted = 0;
        for (int i = 1; i < args.Count; i++)
        {
            // An expired key counts as missing: look it up first so that expiry is applied.
            if (db.Exists(args[i]) && db.Delete(args[i]))
                deleted++;
        }
        ctx.Reply.WriteInteger(deleted);
    }

    private static void Exists(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        long count = 0;
        for (int i = 1; i < args.Count; i++)
        {
            if (db.LookupRead(args[i]).Exists)
                count++;
        }
        ctx.Reply.WriteInteger(count);
    }

    private static void Type(CommandContext ctx, in CommandArgs args)
    {
        var entry = ctx.Db.LookupRead(args[1]);
        ctx.Reply.WriteSimpleString(!entry.Exists ? "none"u8 : entry.Kind switch
        {
            ValueKind.String => "string"u8,
            ValueKind.List => "list"u8,
            ValueKind.Set => "set"u8,
            ValueKind.SortedSet => "zset"u8,
            _ => "hash"u8,
        });
    }
}
