using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>
/// The arguments LMPOP, BLMPOP, ZMPOP and BZMPOP share: <c>numkeys key [key ...] LEFT|RIGHT (or MIN|MAX)
/// [COUNT n]</c>, read in Redis 7.0's order (numkeys, the side, then COUNT), so that the same bad request gets
/// the same error.
/// </summary>
internal readonly struct MultiPop
{
    /// <summary>Index of the first key in the request.</summary>
    public int FirstKey { get; init; }

    public int KeyCount { get; init; }

    /// <summary>True for LEFT (or MIN), false for RIGHT (or MAX).</summary>
    public bool First { get; init; }

    /// <summary>Elements to pop at most (1 without COUNT).</summary>
    public long Count { get; init; }

    /// <summary>False after replying the error.</summary>
    public static bool TryParse(CommandContext ctx, in CommandArgs args, int numKeysIndex, ReadOnlySpan<byte> firstWord, ReadOnlySpan<byte> lastWord, out MultiPop parsed)
    {
        parsed = default;
        if (!Numbers.TryParseInt64(args[numKeysIndex], out long numKeys) || numKeys < 1)
        {
            ctx.Reply.WriteError("ERR numkeys should be greater than 0"u8);
            return false;
        }
        // numkeys + 1 past numkeys is the side: past the request's end (counted without overflow) it is missing.
        if (numKeys >= args.Count - numKeysIndex - 1)
        {
            ctx.SyntaxError();
            return false;
        }
        int whereIndex = numKeysIndex + (int)numKeys + 1;
        bool first = Keyword.Is(args[whereIndex], firstWord);
        if (!first && !Keyword.Is(args[whereIndex], lastWord))
        {
            ctx.SyntaxError();
            return false;
        }
        long count = -1;
        for (int i = whereIndex + 1; i < args.Count; i++)
        {
            if (count == -1 && Keyword.Is(args[i], "COUNT"u8) && i + 1 < args.Count)
            {
                if (!Numbers.TryParseInt64(args[++i], out count) || count < 1)
                {
                    ctx.Reply.WriteError("ERR count should be greater than 0"u8);
                    return false;
                }
            }
            else
            {
                ctx.SyntaxError();
                return false;
            }
        }
        parsed = new MultiPop { FirstKey = numKeysIndex + 1, KeyCount = (int)numKeys, First = first, Count = count == -1 ? 1 : count };
        return true;
    }

    /// <summary>
    /// LMPOP and ZMPOP: parses the request (numkeys at 1), then pops from the first non-empty key with
    /// <paramref name="popFromFirst"/>, or answers a nil array when every key is empty.
    /// </summary>
    public static void Execute(CommandContext ctx, in CommandArgs args, ReadOnlySpan<byte> firstWord, ReadOnlySpan<byte> lastWord, PopFromFirst popFromFirst)
    {
        if (!TryParse(ctx, args, 1, firstWord, lastWord, out var pop))
            return;
        if (!popFromFirst(ctx, args, pop))
            ctx.Reply.WriteNullArray();
    }

    /// <summary>
    /// Propagates a multi-pop as the single-key pop that has the same effect (<c>LPOP key n</c>,
    /// <c>ZPOPMIN key n</c>...), as Redis 7.0 does, so replicas need not know LMPOP/ZMPOP.
    /// </summary>
    public static void Propagate(CommandContext ctx, ReadOnlySpan<byte> command, ReadOnlySpan<byte> key, long popped)
    {
        var p = ctx.Propagate(3);
        p.WriteBulk(command);
        p.WriteBulk(key);
        p.WriteBulk(popped);
    }
}

/// <summary>
/// Pops from the first of a parsed multi-pop's keys that holds a value; false (nothing replied) when none
/// does, true after a reply (a WRONGTYPE error included).
/// </summary>
internal delegate bool PopFromFirst(CommandContext ctx, in CommandArgs args, in MultiPop pop);
