namespace Psyncd.Tests.Support;

/// <summary>
/// A reply (RESP2 or RESP3) parsed into a tree that keeps each value's type, for comparisons that must
/// ignore what Redis leaves unordered (a map's pairs, a set's members) or what is of the moment.
/// </summary>
/// <param name="Type">The type byte: <c>$ + - : _ , # ( = * ~ &gt; %</c>.</param>
/// <param name="Text">A string's content; for other types the whole header line (<c>:5</c>, <c>*3</c>, <c>$-1</c>).</param>
/// <param name="Items">An aggregate's elements; a map's keys and values alternate.</param>
public sealed record RespTree(char Type, string Text, List<RespTree> Items)
{
    public static RespTree Parse(string reply)
    {
        int pos = 0;
        return Parse(reply, ref pos);
    }

    private static RespTree Parse(string text, ref int pos)
    {
        int eol = text.IndexOf("\r\n", pos, StringComparison.Ordinal);
        string line = text[pos..eol];
        pos = eol + 2;
        char type = line[0];
        var items = new List<RespTree>();
        switch (type)
        {
            case '$' or '=' or '!':
            {
                int length = int.Parse(line.AsSpan(1));
                if (length < 0)
                    return new RespTree(type, line, items);
                string value = text.Substring(pos, length);
                pos += length + 2;
                return new RespTree(type, value, items);
            }
            case '*' or '~' or '>' or '%':
            {
                int count = int.Parse(line.AsSpan(1));
                if (type == '%')
                    count *= 2;
                for (int i = 0; i < count; i++)
                    items.Add(Parse(text, ref pos));
                return new RespTree(type, line, items);
            }
            default:
                return new RespTree(type, line, items);
        }
    }

    /// <summary>True for an aggregate (array, set, push, map).</summary>
    public bool IsAggregate => Type is '*' or '~' or '>' or '%' && !Text.StartsWith("*-", StringComparison.Ordinal);

    /// <summary>A map's value for <paramref name="key"/>, or null.</summary>
    public RespTree? Get(string key)
    {
        for (int i = 0; i + 1 < Items.Count; i += 2)
        {
            if (Items[i].Text == key)
                return Items[i + 1];
        }
        return null;
    }

    /// <summary>This map without the pairs whose key <paramref name="drop"/> accepts, at every depth (a copy).</summary>
    public RespTree WithoutKeys(Func<string, bool> drop)
    {
        if (!IsAggregate)
            return this;
        var items = new List<RespTree>();
        if (Type == '%')
        {
            for (int i = 0; i + 1 < Items.Count; i += 2)
            {
                if (drop(Items[i].Text))
                    continue;
                items.Add(Items[i]);
                items.Add(Items[i + 1].WithoutKeys(drop));
            }
            return this with { Text = "%" + items.Count / 2, Items = items };
        }
        items.AddRange(Items.Select(item => item.WithoutKeys(drop)));
        return this with { Items = items };
    }

    /// <summary>
    /// A text form for comparison: maps' pairs and sets' members sorted; with <paramref name="unordered"/> every
    /// array too; with <paramref name="shapeOnly"/> scalars reduced to their type (and a null's form).
    /// </summary>
    public string Canonical(bool unordered = false, bool shapeOnly = false)
    {
        if (!IsAggregate)
        {
            if (!shapeOnly)
                return Type is '$' or '=' ? Type + "[" + Text + "]" : Text;
            return Type + (Text.StartsWith("$-1") || Text.StartsWith("*-1") ? "-1" : "");
        }
        var parts = Items.Select(child => child.Canonical(unordered, shapeOnly)).ToList();
        if (Type == '%')
        {
            var pairs = new List<string>();
            for (int i = 0; i < parts.Count; i += 2)
                pairs.Add(parts[i] + "=>" + parts[i + 1]);
            parts = pairs;
        }
        if (Type is '%' or '~' || unordered)
            parts.Sort(StringComparer.Ordinal);
        // An aggregate's header counts map pairs; after a filter, the items say it.
        string header = Type + (Type == '%' ? Items.Count / 2 : Items.Count).ToString();
        return header + "(" + string.Join(",", parts) + ")";
    }
}
