using System.Buffers.Text;
using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>What the set, sorted set and SORT commands share: score replies, SCAN options, storing results.</summary>
internal static class CollectionHelpers
{
    /// <summary>
    /// After elements were removed from the collection at <paramref name="key"/> (looked up for writing): the
    /// command's event, then, when no element is left, the key deleted with a "del" event (Redis never keeps an
    /// empty collection); otherwise the change is recorded.
    /// </summary>
    public static void AfterRemoval(IKeyspaceNotifier notifier, Database db, ReadOnlySpan<byte> key, RedisObject collection, long removed,
        KeyspaceEventClass type, ReadOnlySpan<byte> eventName)
    {
        bool emptied = collection.Count == 0;
        if (emptied)
            db.Delete(key);
        else
            db.Modified(key, removed);
        notifier.Notify(type, eventName, db.Index, key);
        if (emptied)
            notifier.Notify(KeyspaceEventClass.Generic, "del"u8, db.Index, key);
    }

    /// <summary>
    /// The result of a *STORE command (SINTERSTORE, ZUNIONSTORE, SORT ... STORE): stored at
    /// <paramref name="destination"/> with <paramref name="eventName"/>, or, when empty, the destination deleted
    /// ("del" when it existed), as Redis does.
    /// </summary>
    public static void StoreResult(CommandContext ctx, ReadOnlySpan<byte> destination, RedisObject result, KeyspaceEventClass type, ReadOnlySpan<byte> eventName)
    {
        var db = ctx.Db;
        if (result.Count == 0)
        {
            if (db.Delete(destination))
                ctx.Notify(KeyspaceEventClass.Generic, "del"u8, destination);
            return;
        }
        db.SetObject(destination, result);
        ctx.Notify(type, eventName, destination);
    }

    /// <summary>Largest integer that "%.17g" prints in plain notation (17 digits).</summary>
    private const double PlainIntegerLimit = 1e17;

    /// <summary>
    /// A score as redis-server 7.0 replies with it (%.17g, "inf", "-inf"): a double under RESP3, a bulk string
    /// under RESP2 (Redis's addReplyDouble).
    /// </summary>
    public static void WriteScore(ReplyWriter reply, double score)
    {
        Span<byte> text = stackalloc byte[32];
        reply.WriteDouble(text[..FormatScore(score, text)]);
    }

    /// <summary>A score as a bulk string whatever the protocol (ZSCAN's replies: scores are scanned as text).</summary>
    public static void WriteScoreBulk(ReplyWriter reply, double score)
    {
        Span<byte> text = stackalloc byte[32];
        reply.WriteBulk(text[..FormatScore(score, text)]);
    }

    /// <summary>Formats <paramref name="score"/> into <paramref name="destination"/> (32 bytes suffice) and returns the length.</summary>
    private static int FormatScore(double score, Span<byte> destination)
    {
        // Integers below 1e17 print as their digits under %.17g: format those without allocating.
        if (score == Math.Floor(score) && Math.Abs(score) < PlainIntegerLimit && !(score == 0 && double.IsNegative(score)))
        {
            Utf8Formatter.TryFormat((long)score, destination, out int n);
            return n;
        }
        string text = Numbers.FormatDouble(score);
        return System.Text.Encoding.ASCII.GetBytes(text, destination);
    }

    /// <summary>
    /// The numkeys of SINTERCARD, ZINTERCARD, ZUNION, ZINTER, ZDIFF and ZDIFFSTORE (Redis 7.0's texts): at least 1
    /// and no more than the arguments after it. False after replying the error.
    /// </summary>
    public static bool TryParseNumKeys(CommandContext ctx, in CommandArgs args, int index, out int numKeys)
    {
        numKeys = 0;
        if (!Numbers.TryParseInt64(args[index], out long n) || n < 1)
        {
            ctx.Reply.WriteError("ERR numkeys should be greater than 0"u8);
            return false;
        }
        if (n > args.Count - index - 1)
        {
            ctx.Reply.WriteError("ERR Number of keys can't be greater than number of args"u8);
            return false;
        }
        numKeys = (int)n;
        return true;
    }

    /// <summary>
    /// The positions SRANDMEMBER-like commands (HRANDFIELD, ZRANDMEMBER) reply for <paramref name="count"/> of
    /// <paramref name="size"/> elements, as Redis specifies them: a negative count picks that many with
    /// repetition, a count of at least the size gives every element in order, else that many distinct ones.
    /// </summary>
    public static IEnumerable<int> RandomPositions(int size, long count)
    {
        if (count < 0)
        {
            for (long i = 0; i < -count; i++)
                yield return Random.Shared.Next(size);
            yield break;
        }
        if (count >= size)
        {
            for (int i = 0; i < size; i++)
                yield return i;
            yield break;
        }
        var positions = new int[size];
        for (int i = 0; i < size; i++)
            positions[i] = i;
        for (int i = 0; i < count; i++)
        {
            int j = i + Random.Shared.Next(size - i);
            (positions[i], positions[j]) = (positions[j], positions[i]);
            yield return positions[i];
        }
    }

    /// <summary>
    /// The arguments of HRANDFIELD and ZRANDMEMBER (<c>key [count [WITHVALUES|WITHSCORES]]</c>) in Redis 7.0's
    /// order: the count within ±LONG_MAX, then the option (<paramref name="pairsWord"/>), then, with pairs, half
    /// that range, since the reply holds twice as many items. False after replying the error.
    /// </summary>
    public static bool TryParseRandomArgs(CommandContext ctx, in CommandArgs args, ReadOnlySpan<byte> pairsWord, out bool hasCount, out long count, out bool pairs)
    {
        hasCount = args.Count >= 3;
        count = 0;
        pairs = false;
        if (!hasCount)
            return true;
        if (!Numbers.TryParseInt64(args[2], out count))
        {
            ctx.NotInteger();
            return false;
        }
        if (count == long.MinValue)
        {
            ctx.Reply.WriteError("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"u8);
            return false;
        }
        if (args.Count > 4 || (args.Count == 4 && !Keyword.Is(args[3], pairsWord)))
        {
            ctx.SyntaxError();
            return false;
        }
        pairs = args.Count == 4;
        if (pairs && (count < -long.MaxValue / 2 || count > long.MaxValue / 2))
        {
            ctx.Reply.WriteError("ERR value is out of range"u8);
            return false;
        }
        return true;
    }

    /// <summary>The configured compact-encoding limits (which decide OBJECT ENCODING and whether SCAN returns all at once).</summary>
    public static EncodingLimits Limits(CommandContext ctx) => new(
        ctx.Options.HashMaxZiplistEntries,
        ctx.Options.HashMaxZiplistValue,
        SetMaxIntsetEntries: ctx.Options.SetMaxIntsetEntries,
        ZsetMaxZiplistEntries: ctx.Options.ZsetMaxZiplistEntries,
        ZsetMaxZiplistValue: ctx.Options.ZsetMaxZiplistValue);

    /// <summary>
    /// Parses a SCAN-family cursor as Redis's parseScanCursorOrReply does (strtoul on a C string): no leading
    /// blank, an optional sign (negative values wrap), decimal digits up to the end or a NUL byte, empty is 0,
    /// overflow is an error. False after replying the error.
    /// </summary>
    public static bool TryParseCursor(CommandContext ctx, ReadOnlySpan<byte> text, out ulong cursor)
    {
        if (TryParseCursor(text, out cursor))
            return true;
        ctx.Reply.WriteError(ErrorReplies.InvalidCursor);
        return false;
    }

    private static bool TryParseCursor(ReadOnlySpan<byte> text, out ulong cursor)
    {
        cursor = 0;
        int nul = text.IndexOf((byte)0);
        if (nul >= 0)
            text = text[..nul];
        if (text.IsEmpty)
            return true;
        int p = 0;
        bool negative = false;
        if (text[0] is (byte)'+' or (byte)'-')
        {
            negative = text[0] == (byte)'-';
            p = 1;
        }
        if (p == text.Length)
            return false;
        ulong value = 0;
        for (; p < text.Length; p++)
        {
            uint digit = (uint)(text[p] - '0');
            if (digit > 9 || value > (ulong.MaxValue - digit) / 10)
                return false;
            value = (value * 10) + digit;
        }
        cursor = negative ? unchecked(0UL - value) : value;
        return true;
    }

    /// <summary>
    /// Parses SSCAN/ZSCAN's options from argument 3 on: MATCH pattern, COUNT n. False after replying the
    /// error. <paramref name="patternIndex"/> is 0 when there is no pattern (or it matches everything).
    /// </summary>
    public static bool TryParseScanOptions(CommandContext ctx, in CommandArgs args, out int patternIndex, out long count)
    {
        patternIndex = 0;
        count = 10;
        for (int i = 3; i < args.Count; i++)
        {
            bool hasValue = i + 1 < args.Count;
            if (hasValue && Keyword.Is(args[i], "COUNT"u8))
            {
                if (!Numbers.TryParseInt64(args[i + 1], out count))
                {
                    ctx.NotInteger();
                    return false;
                }
                if (count < 1)
                {
                    ctx.SyntaxError();
                    return false;
                }
                i++;
            }
            else if (hasValue && Keyword.Is(args[i], "MATCH"u8))
            {
                patternIndex = GlobMatcher.MatchesAll(args[i + 1]) ? 0 : i + 1;
                i++;
            }
            else
            {
                ctx.SyntaxError();
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Stores a collection built by a command: a new key gets <paramref name="value"/>; in both cases the
    /// dirty counter grows by <paramref name="changes"/> (a new key counts as one of them).
    /// </summary>
    public static void StoreChanges(Database db, ReadOnlySpan<byte> key, RedisObject value, bool isNew, long changes)
    {
        if (isNew)
        {
            db.SetObject(key, value);
            if (changes > 1)
                db.Modified(key, changes - 1);
        }
        else if (changes > 0)
        {
            db.Modified(key, changes);
        }
    }

    /// <summary>The reply of a range of elements counted from both ends (LRANGE's rules): false when empty.</summary>
    public static bool ClampRange(long start, long end, long length, out long first, out long last)
    {
        if (start < 0)
            start += length;
        if (end < 0)
            end += length;
        if (start < 0)
            start = 0;
        first = start;
        last = Math.Min(end, length - 1);
        return !(start > end || start >= length);
    }

    /// <summary>
    /// Looks up a collection of <paramref name="kind"/> for a command that answers 0 when the key is missing
    /// (SREM, ZREM, ZCOUNT...): replies 0 or WRONGTYPE and returns false, or returns the object. With
    /// <paramref name="write"/>, looks it up for writing (expiry applied, snapshot preserved).
    /// </summary>
    public static bool LookupOrZero<T>(CommandContext ctx, ReadOnlySpan<byte> key, ValueKind kind, out T value, bool write = false)
        where T : RedisObject
    {
        value = null!;
        var entry = write ? ctx.Db.LookupWrite(key) : ctx.Db.LookupRead(key);
        if (!entry.Exists)
        {
            ctx.Reply.WriteInteger(0);
            return false;
        }
        if (entry.Kind != kind)
        {
            ctx.WrongType();
            return false;
        }
        value = entry.As<T>();
        return true;
    }

    /// <summary>
    /// Looks up a value of <paramref name="kind"/> for a command that answers nil when the key is missing
    /// (GETDEL, GETEX, ZRANK...): replies nil or WRONGTYPE and returns false, or returns the entry. A read
    /// lookup, as Redis's: a miss counts as a keyspace miss.
    /// </summary>
    public static bool LookupOrNil(CommandContext ctx, ReadOnlySpan<byte> key, ValueKind kind, out Entry entry)
    {
        entry = ctx.Db.LookupRead(key);
        if (!entry.Exists)
        {
            ctx.Reply.WriteNullBulk();
            return false;
        }
        if (entry.Kind != kind)
        {
            ctx.WrongType();
            return false;
        }
        return true;
    }

    /// <summary>
    /// Parses an option's count that must be a non-negative integer (LPOS COUNT/MAXLEN, SINTERCARD and
    /// ZINTERCARD LIMIT): anything else, a non-number included, answers Redis's "<c>ERR &lt;OPTION&gt; can't be
    /// negative</c>" given as <paramref name="error"/>.
    /// </summary>
    public static bool TryParseNonNegative(CommandContext ctx, ReadOnlySpan<byte> arg, ReadOnlySpan<byte> error, out long value)
    {
        if (Numbers.TryParseInt64(arg, out value) && value >= 0)
            return true;
        ctx.Reply.WriteError(error);
        return false;
    }
}
