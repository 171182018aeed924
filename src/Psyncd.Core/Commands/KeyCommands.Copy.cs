using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>The key commands Redis 6.2 and 7.0 added: COPY, EXPIRETIME, PEXPIRETIME (TOUCH is EXISTS's handler).</summary>
internal static partial class KeyCommands
{
    private static void ExpireTime(CommandContext ctx, in CommandArgs args) => AbsoluteExpiry(ctx, args[1], milliseconds: false);

    private static void PExpireTime(CommandContext ctx, in CommandArgs args) => AbsoluteExpiry(ctx, args[1], milliseconds: true);

    /// <summary>-2 for a missing key, -1 without a time to live, else the unix time (seconds rounded as Redis does).</summary>
    private static void AbsoluteExpiry(CommandContext ctx, ReadOnlySpan<byte> key, bool milliseconds)
    {
        var entry = ctx.Db.LookupRead(key);
        if (!entry.Exists)
            ctx.Reply.WriteInteger(-2);
        else if (entry.ExpireAt < 0)
            ctx.Reply.WriteInteger(-1);
        else
            ctx.Reply.WriteInteger(milliseconds ? entry.ExpireAt : (entry.ExpireAt + 500) / 1000);
    }

    /// <summary>
    /// COPY source destination [DB n] [REPLACE]: a deep copy with the source's time to live; 0 when the source
    /// is missing or the destination exists without REPLACE. Propagated as received; notifies copy_to.
    /// </summary>
    private static void Copy(CommandContext ctx, in CommandArgs args)
    {
        var db = ctx.Db;
        int targetIndex = db.Index;
        bool replace = false;
        for (int i = 3; i < args.Count; i++)
        {
            if (Keyword.Is(args[i], "REPLACE"u8))
                replace = true;
            else if (Keyword.Is(args[i], "DB"u8) && i + 1 < args.Count)
            {
                if (!Numbers.TryParseInt64(args[++i], out long index))
                {
                    ctx.NotInteger();
                    return;
                }
                if (index < 0 || index >= ctx.Keyspace.DatabaseCount)
                {
                    ctx.Reply.WriteError(ErrorReplies.DbIndexOutOfRange);
                    return;
                }
                targetIndex = (int)index;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        var source = args[1];
        var destination = args[2];
        if (targetIndex == db.Index && source.SequenceEqual(destination))
        {
            ctx.Reply.WriteError("ERR source and destination objects are the same"u8);
            return;
        }
        var entry = db.LookupRead(source);
        if (!entry.Exists)
        {
            ctx.Reply.WriteInteger(0);
            return;
        }
        var target = ctx.Keyspace[targetIndex];
        // The source's bytes and object are taken before any write: a write may move a record's bytes.
        long expireAt = entry.ExpireAt;
        RedisObject? copy = entry.Kind == ValueKind.String ? null : entry.Object!.Clone();
        byte[]? text = copy is null ? entry.String.ToArray() : null;
        if (target.LookupWrite(destination).Exists)
        {
            if (!replace)
            {
                ctx.Reply.WriteInteger(0);
                return;
            }
            target.Delete(destination);
        }
        if (copy is not null)
            target.SetObject(destination, copy, expireAt);
        else
            target.SetString(destination, text!, expireAt);
        ctx.Notify(KeyspaceEventClass.Generic, "copy_to"u8, targetIndex, destination);
        ctx.Reply.WriteInteger(1);
    }
}
