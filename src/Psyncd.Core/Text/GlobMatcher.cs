namespace Psyncd.Text;

/// <summary>
/// Redis's glob-style pattern matching (KEYS, SCAN MATCH, PSUBSCRIBE, CONFIG GET...): <c>*</c> any run of
/// bytes, <c>?</c> one byte, <c>[abc]</c> <c>[^abc]</c> <c>[a-z]</c> sets, and <c>\x</c> to match x literally.
/// Behaves as redis-server's stringmatchlen, including its handling of malformed patterns.
/// </summary>
public static class GlobMatcher
{
    public static bool IsMatch(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> subject, bool ignoreCase = false)
    {
        int steps = 0;
        return Match(pattern, subject, ignoreCase, ref steps);
    }

    /// <summary>True when the pattern is "*" (matches everything: callers can skip matching).</summary>
    public static bool MatchesAll(ReadOnlySpan<byte> pattern) => pattern.Length == 1 && pattern[0] == (byte)'*';

    private static bool Match(ReadOnlySpan<byte> pattern, ReadOnlySpan<byte> subject, bool ignoreCase, ref int steps)
    {
        // Bounded work, as in Redis 7: pathological patterns stop matching instead of stalling the server.
        if (++steps > 1_000_000)
            return false;
        int p = 0;
        int s = 0;
        while (p < pattern.Length && s < subject.Length)
        {
            switch (pattern[p])
            {
                case (byte)'*':
                    while (p + 1 < pattern.Length && pattern[p + 1] == (byte)'*')
                        p++;
                    if (p + 1 == pattern.Length)
                        return true;
                    for (int i = s; i < subject.Length; i++)
                    {
                        if (Match(pattern[(p + 1)..], subject[i..], ignoreCase, ref steps))
                            return true;
                        if (steps > 1_000_000)
                            return false;
                    }
                    return false;
                case (byte)'?':
                    s++;
                    break;
                case (byte)'[':
                {
                    p++;
                    bool not = p < pattern.Length && pattern[p] == (byte)'^';
                    if (not)
                        p++;
                    bool match = false;
                    while (true)
                    {
                        if (p >= pattern.Length)
                        {
                            p--; // as Redis: an unterminated set ends at the pattern's last byte
                            break;
                        }
                        if (pattern[p] == (byte)'\\' && p + 1 < pattern.Length)
                        {
                            p++;
                            if (Eq(pattern[p], subject[s], ignoreCase))
                                match = true;
                        }
                        else if (pattern[p] == (byte)']')
                        {
                            break;
                        }
                        else if (p + 2 < pattern.Length && pattern[p + 1] == (byte)'-')
                        {
                            int start = pattern[p];
                            int end = pattern[p + 2];
                            int c = subject[s];
                            if (start > end)
                                (start, end) = (end, start);
                            if (ignoreCase)
                            {
                                start = Lower(start);
                                end = Lower(end);
                                c = Lower(c);
                            }
                            p += 2;
                            if (c >= start && c <= end)
                                match = true;
                        }
                        else if (Eq(pattern[p], subject[s], ignoreCase))
                        {
                            match = true;
                        }
                        p++;
                    }
                    if (not)
                        match = !match;
                    if (!match)
                        return false;
                    s++;
                    break;
                }
                case (byte)'\\':
                    if (p + 1 < pattern.Length)
                        p++;
                    if (!Eq(pattern[p], subject[s], ignoreCase))
                        return false;
                    s++;
                    break;
                default:
                    if (!Eq(pattern[p], subject[s], ignoreCase))
                        return false;
                    s++;
                    break;
            }
            p++;
            if (s == subject.Length)
            {
                while (p < pattern.Length && pattern[p] == (byte)'*')
                    p++;
                break;
            }
        }
        return p == pattern.Length && s == subject.Length;
    }

    private static bool Eq(byte a, byte b, bool ignoreCase) => a == b || (ignoreCase && Lower(a) == Lower(b));

    private static int Lower(int c) => c is >= 'A' and <= 'Z' ? c | 0x20 : c;
}
