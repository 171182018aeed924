using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>The set commands of Redis 6.2 and 7.0: SINTERCARD and SMISMEMBER.</summary>
internal static partial class SetCommands
{
    /// <summary>SINTERCARD numkeys key [key ...] [LIMIT n]: the size of the intersection, at most n (0: no limit).</summary>
    private static void SInterCard(CommandContext ctx, in CommandArgs args)
    {
        if (!CollectionHelpers.TryParseNumKeys(ctx, args, 1, out int numKeys))
            return;
        long limit = 0;
        for (int i = 2 + numKeys; i < args.Count; i++)
        {
            if (Keyword.Is(args[i], "LIMIT"u8) && i + 1 < args.Count)
            {
                if (!CollectionHelpers.TryParseNonNegative(ctx, args[++i], "ERR LIMIT can't be negative"u8, out limit))
                    return;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        var db = ctx.Db;
        var sets = new SetObject?[numKeys];
        for (int i = 0; i < numKeys; i++)
        {
            var entry = db.LookupRead(args[2 + i]);
            if (entry.IsNot(ValueKind.Set))
            {
                ctx.WrongType();
                return;
            }
            sets[i] = entry.Exists ? entry.As<SetObject>() : null;
        }
        long count = Compute(sets, SetOp.Inter).Count;
        ctx.Reply.WriteInteger(limit == 0 ? count : Math.Min(count, limit));
    }

    /// <summary>SMISMEMBER key member [member ...]: 1 or 0 for each member.</summary>
    private static void SMIsMember(CommandContext ctx, in CommandArgs args)
    {
        var entry = ctx.Db.LookupRead(args[1]);
        if (entry.IsNot(ValueKind.Set))
        {
            ctx.WrongType();
            return;
        }
        var set = entry.Exists ? entry.As<SetObject>() : null;
        ctx.Reply.WriteArrayHeader(args.Count - 2);
        for (int i = 2; i < args.Count; i++)
            ctx.Reply.WriteInteger(set is not null && set.Contains(args[i]) ? 1 : 0);
    }
}
