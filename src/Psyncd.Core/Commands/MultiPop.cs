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
}
