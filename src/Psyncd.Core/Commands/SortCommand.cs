using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>
/// SORT key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC|DESC] [ALPHA] [STORE destination],
/// over lists, sets and sorted sets, with redis-server's rules: a BY pattern without '*' means "don't sort"
/// (kept order; a set is still sorted ALPHA when stored, for a deterministic result), numeric ties are
/// broken by the elements' bytes, and patterns substitute the element for the first '*', reading a hash
/// field after "->".
/// </summary>
internal static class SortCommand
{
    public static void Register(CommandTable table)
    {
        table.Add("sort", -2, CommandFlags.Write | CommandFlags.DenyOom, Sort, 1, 1, 1);
        table.Add("sort_ro", -2, CommandFlags.ReadOnly, SortReadOnly, 1, 1, 1);
    }

    private sealed class Item
    {
        public Item(byte[] value) => Value = value;

        public readonly byte[] Value;
        public double Score;

        /// <summary>The BY value of an ALPHA sort (null when the BY key is missing).</summary>
        public byte[]? CompareBy;
    }

    private static void Sort(CommandContext ctx, in CommandArgs args) => SortGeneric(ctx, args, readOnly: false);

    /// <summary>SORT_RO (Redis 7.0): SORT without STORE, which is a syntax error there.</summary>
    private static void SortReadOnly(CommandContext ctx, in CommandArgs args) => SortGeneric(ctx, args, readOnly: true);

    private static void SortGeneric(CommandContext ctx, in CommandArgs args, bool readOnly)
    {
        bool desc = false, alpha = false, dontSort = false;
        long limitStart = 0, limitCount = -1;
        int byIndex = 0, storeIndex = 0;
        var gets = new List<byte[]>();
        for (int j = 2; j < args.Count; j++)
        {
            int left = args.Count - j - 1;
            var a = args[j];
            if (Keyword.Is(a, "ASC"u8))
            {
                desc = false;
            }
            else if (Keyword.Is(a, "DESC"u8))
            {
                desc = true;
            }
            else if (Keyword.Is(a, "ALPHA"u8))
            {
                alpha = true;
            }
            else if (Keyword.Is(a, "LIMIT"u8) && left >= 2)
            {
                if (!Numbers.TryParseInt64(args[j + 1], out limitStart) || !Numbers.TryParseInt64(args[j + 2], out limitCount))
                {
                    ctx.NotInteger();
                    return;
                }
                j += 2;
            }
            else if (Keyword.Is(a, "STORE"u8) && left >= 1 && !readOnly)
            {
                storeIndex = ++j;
            }
            else if (Keyword.Is(a, "BY"u8) && left >= 1)
            {
                byIndex = ++j;
                dontSort = args[j].IndexOf((byte)'*') < 0;
            }
            else if (Keyword.Is(a, "GET"u8) && left >= 1)
            {
                gets.Add(args[++j].ToArray());
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }

        var db = ctx.Db;
        var entry = db.LookupRead(args[1]);
        if (entry.Exists && entry.Kind is not (ValueKind.List or ValueKind.Set or ValueKind.SortedSet))
        {
            ctx.WrongType();
            return;
        }
        var source = entry.Exists ? entry.Object : null;
        byte[]? byPattern = byIndex != 0 ? args[byIndex].ToArray() : null;
        // A set's order is the server's own: stored, or returned to a script (whose effects must not depend on
        // it), it is sorted ALPHA instead, as Redis 7.0 does.
        if (dontSort && source is SetObject && (storeIndex != 0 || ctx.Client.Has(ClientFlags.Script)))
        {
            dontSort = false;
            alpha = true;
            byPattern = null;
        }

        long length = source?.Count ?? 0;
        long start = limitStart < 0 ? 0 : limitStart;
        long end = limitCount < 0 ? length - 1 : start + limitCount - 1;
        if (start >= length)
        {
            start = length - 1;
            end = length - 2;
        }
        if (end >= length)
            end = length - 1;

        var items = new List<Item>();
        switch (source)
        {
            case ListObject list:
                foreach (var value in list.Items)
                    items.Add(new Item(value));
                if (dontSort && desc)
                    items.Reverse();
                break;
            case SetObject set:
                foreach (var member in set.MemberCopies())
                    items.Add(new Item(member));
                break;
            case SortedSetObject zset:
                foreach (var (member, _) in zset.Entries)
                    items.Add(new Item(member));
                if (dontSort && desc)
                    items.Reverse();
                break;
        }

        if (!dontSort)
        {
            bool conversionError = false;
            foreach (var item in items)
            {
                byte[]? by;
                if (byPattern is not null)
                {
                    by = LookupByPattern(db, byPattern, item.Value);
                    if (by is null)
                        continue;
                }
                else
                {
                    by = item.Value;
                }
                if (alpha)
                {
                    if (byPattern is not null)
                        item.CompareBy = by;
                }
                else if (!TryParseSortScore(by, out item.Score))
                {
                    conversionError = true;
                }
            }
            if (conversionError)
            {
                ctx.Reply.WriteError("ERR One or more scores can't be converted into double"u8);
                return;
            }
            bool byPatternUsed = byPattern is not null;
            items.Sort((x, y) =>
            {
                int c;
                if (!alpha)
                {
                    c = x.Score > y.Score ? 1 : x.Score < y.Score ? -1 : x.Value.AsSpan().SequenceCompareTo(y.Value);
                }
                else if (byPatternUsed)
                {
                    if (x.CompareBy is null || y.CompareBy is null)
                        c = x.CompareBy == y.CompareBy ? 0 : x.CompareBy is null ? -1 : 1;
                    else
                        c = x.CompareBy.AsSpan().SequenceCompareTo(y.CompareBy);
                }
                else
                {
                    c = x.Value.AsSpan().SequenceCompareTo(y.Value);
                }
                return desc ? -c : c;
            });
        }

        long outputLength = (gets.Count > 0 ? gets.Count : 1) * (end - start + 1);
        if (storeIndex == 0)
        {
            ctx.Reply.WriteArrayHeader(outputLength);
            for (long j = start; j <= end; j++)
            {
                var value = items[(int)j].Value;
                if (gets.Count == 0)
                    ctx.Reply.WriteBulk(value);
                foreach (var pattern in gets)
                {
                    var found = LookupByPattern(db, pattern, value);
                    if (found is null)
                        ctx.Reply.WriteNullBulk();
                    else
                        ctx.Reply.WriteBulk(found);
                }
            }
            return;
        }

        var stored = new ListObject();
        for (long j = start; j <= end; j++)
        {
            var value = items[(int)j].Value;
            if (gets.Count == 0)
                stored.PushRight(value);
            foreach (var pattern in gets)
                stored.PushRight(LookupByPattern(db, pattern, value) ?? []);
        }
        var dstKey = args[storeIndex];
        var dst = db.LookupWrite(dstKey);
        if (outputLength > 0)
        {
            db.SetObject(dstKey, stored);
            if (outputLength > 1)
                db.Modified(dstKey, outputLength - 1);
            ctx.Notify(KeyspaceEventClass.List, "sortstore"u8, dstKey);
        }
        else if (dst.Exists)
        {
            db.Delete(dstKey);
            ctx.Notify(KeyspaceEventClass.Generic, "del"u8, dstKey);
        }
        ctx.Reply.WriteInteger(outputLength);
    }

    /// <summary>
    /// The value a SORT pattern designates for an element: "#" is the element itself; otherwise the
    /// element replaces the first '*', and "->field" after it reads a hash field. Null when there is no
    /// '*', no such key, or a key of another type. The bytes are copied (a lookup may expire keys).
    /// </summary>
    private static byte[]? LookupByPattern(Database db, byte[] pattern, byte[] element)
    {
        if (pattern.Length == 1 && pattern[0] == (byte)'#')
            return element;
        int star = Array.IndexOf(pattern, (byte)'*');
        if (star < 0)
            return null;
        var rest = pattern.AsSpan(star + 1);
        int arrow = rest.IndexOf("->"u8);
        ReadOnlySpan<byte> field = default;
        bool isHashField = arrow >= 0 && arrow + 2 < rest.Length;
        if (isHashField)
        {
            field = rest[(arrow + 2)..];
            rest = rest[..arrow];
        }
        int keyLength = star + element.Length + rest.Length;
        var key = keyLength <= 256 ? stackalloc byte[keyLength] : new byte[keyLength];
        pattern.AsSpan(0, star).CopyTo(key);
        element.CopyTo(key[star..]);
        rest.CopyTo(key[(star + element.Length)..]);
        var entry = db.LookupRead(key);
        if (!entry.Exists)
            return null;
        if (isHashField)
        {
            if (entry.Kind != ValueKind.Hash)
                return null;
            return entry.As<HashObject>().TryGet(field, out var value) ? value : null;
        }
        return entry.Kind == ValueKind.String ? entry.String.ToArray() : null;
    }

    /// <summary>An element or BY value as a number (strtod: blanks before, nothing after, no NaN, no overflow).</summary>
    private static bool TryParseSortScore(ReadOnlySpan<byte> text, out double score)
    {
        while (text.Length > 0 && text[0] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or (byte)'\v' or (byte)'\f')
            text = text[1..];
        if (text.IsEmpty)
        {
            score = 0;
            return true;
        }
        return Numbers.TryParseDouble(text, out score) && (!double.IsInfinity(score) || IsInfinityWord(text));
    }

    private static bool IsInfinityWord(ReadOnlySpan<byte> text)
    {
        var unsigned = text[0] is (byte)'+' or (byte)'-' ? text[1..] : text;
        return Keyword.Is(unsigned, "inf"u8) || Keyword.Is(unsigned, "infinity"u8);
    }
}
