namespace Psyncd.Config;

/// <summary>
/// The event classes of <c>notify-keyspace-events</c> (Redis 7.0's NOTIFY_* flags, same bits; the letters are the
/// directive's). Parsed and written back by <see cref="KeyspaceEventClasses"/>.
/// </summary>
[Flags]
public enum KeyspaceEventClass
{
    None = 0,

    /// <summary>K: publish to <c>__keyspace@db__:key</c>, the event as the message.</summary>
    Keyspace = 1 << 0,

    /// <summary>E: publish to <c>__keyevent@db__:event</c>, the key as the message.</summary>
    Keyevent = 1 << 1,

    /// <summary>g: generic commands (DEL, EXPIRE, RENAME...).</summary>
    Generic = 1 << 2,

    /// <summary>$: string commands.</summary>
    String = 1 << 3,

    /// <summary>l: list commands.</summary>
    List = 1 << 4,

    /// <summary>s: set commands.</summary>
    Set = 1 << 5,

    /// <summary>h: hash commands.</summary>
    Hash = 1 << 6,

    /// <summary>z: sorted set commands.</summary>
    ZSet = 1 << 7,

    /// <summary>x: a key deleted because its time to live passed.</summary>
    Expired = 1 << 8,

    /// <summary>e: a key evicted for maxmemory.</summary>
    Evicted = 1 << 9,

    /// <summary>t: stream commands (psyncd has no streams: accepted, never published).</summary>
    Stream = 1 << 10,

    /// <summary>m: a read found no key ("keymiss"); not part of A, as in Redis.</summary>
    KeyMiss = 1 << 11,

    /// <summary>d: module key types (psyncd has no modules: accepted, never published).</summary>
    Module = 1 << 13,

    /// <summary>n: a key was added to a database ("new"); not part of A, as in Redis.</summary>
    New = 1 << 14,

    /// <summary>A: g$lshzxetd.</summary>
    All = Generic | String | List | Set | Hash | ZSet | Expired | Evicted | Stream | Module,
}

/// <summary>The text of <c>notify-keyspace-events</c> and its classes, both ways (Redis's keyspaceEventsStringToFlags and back).</summary>
public static class KeyspaceEventClasses
{
    /// <summary>The classes the letters of <paramref name="text"/> name; false when a letter is not a class.</summary>
    public static bool TryParse(string text, out KeyspaceEventClass classes)
    {
        classes = KeyspaceEventClass.None;
        foreach (char c in text)
        {
            var one = c switch
            {
                'A' => KeyspaceEventClass.All,
                'g' => KeyspaceEventClass.Generic,
                '$' => KeyspaceEventClass.String,
                'l' => KeyspaceEventClass.List,
                's' => KeyspaceEventClass.Set,
                'h' => KeyspaceEventClass.Hash,
                'z' => KeyspaceEventClass.ZSet,
                'x' => KeyspaceEventClass.Expired,
                'e' => KeyspaceEventClass.Evicted,
                'K' => KeyspaceEventClass.Keyspace,
                'E' => KeyspaceEventClass.Keyevent,
                't' => KeyspaceEventClass.Stream,
                'm' => KeyspaceEventClass.KeyMiss,
                'd' => KeyspaceEventClass.Module,
                'n' => KeyspaceEventClass.New,
                _ => KeyspaceEventClass.None,
            };
            if (one == KeyspaceEventClass.None)
                return false;
            classes |= one;
        }
        return true;
    }

    /// <summary>
    /// The text CONFIG GET and CONFIG REWRITE show, as redis-server 7.0 writes it: A when every class of A is on
    /// (then n is not shown, though it stays on), else the class letters in a fixed order; then K, E and m.
    /// </summary>
    public static string Format(KeyspaceEventClass classes)
    {
        Span<char> text = stackalloc char[16];
        int n = 0;
        if ((classes & KeyspaceEventClass.All) == KeyspaceEventClass.All)
        {
            text[n++] = 'A';
        }
        else
        {
            foreach (var (flag, letter) in s_classLetters)
            {
                if ((classes & flag) != 0)
                    text[n++] = letter;
            }
        }
        if ((classes & KeyspaceEventClass.Keyspace) != 0)
            text[n++] = 'K';
        if ((classes & KeyspaceEventClass.Keyevent) != 0)
            text[n++] = 'E';
        if ((classes & KeyspaceEventClass.KeyMiss) != 0)
            text[n++] = 'm';
        return new string(text[..n]);
    }

    private static readonly (KeyspaceEventClass Flag, char Letter)[] s_classLetters =
    {
        (KeyspaceEventClass.Generic, 'g'), (KeyspaceEventClass.String, '$'), (KeyspaceEventClass.List, 'l'),
        (KeyspaceEventClass.Set, 's'), (KeyspaceEventClass.Hash, 'h'), (KeyspaceEventClass.ZSet, 'z'),
        (KeyspaceEventClass.Expired, 'x'), (KeyspaceEventClass.Evicted, 'e'), (KeyspaceEventClass.Stream, 't'),
        (KeyspaceEventClass.Module, 'd'), (KeyspaceEventClass.New, 'n'),
    };
}
