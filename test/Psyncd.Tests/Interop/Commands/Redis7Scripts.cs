using System.Text;

namespace Psyncd.Tests.Interop.Commands;

/// <summary>
/// Command scripts for the Redis 6.2/7.0 commands, one command a line (arguments split at spaces, double
/// quotes keep spaces): the differential test runs them on both servers, the replication test sends them to
/// a redis-server master whose psyncd replica must end with the same dataset.
/// </summary>
public static class Redis7Scripts
{
    public static readonly (string Name, string Text)[] All =
    [
        ("keys-and-strings", """
        flushall
        set a 1
        copy a a
        copy a b db 99
        copy a b db x
        copy a b foo
        copy a b db
        copy a a db 1
        copy a b
        copy a b
        copy a b replace
        copy nokey b
        copy a c db 1 db 2 replace replace
        select 2
        get c
        select 0
        rpush l1 x y z
        copy l1 l2
        lrange l2 0 -1
        hset h f v g w
        pexpireat h 1899999999123
        copy h h2 db 3
        select 3
        pexpiretime h2
        select 0
        sadd s 1 2 3
        copy s s2
        smembers s2
        zadd z 1 a 2 b
        copy z z2
        zrange z2 0 -1 withscores
        swapdb 0 99
        swapdb x 1
        swapdb 0 99999999999
        swapdb 0 -1
        swapdb 0 0
        swapdb 0 5
        dbsize
        select 5
        dbsize
        get a
        swapdb 5 0
        expiretime a
        expiretime nokey
        expiretime h
        pexpiretime h
        pexpiretime nokey
        set e v
        pexpireat e 1799999999499
        expiretime e
        pexpireat e 1799999999500
        expiretime e
        getex a ex 0
        getex a ex 10 px 10
        getex a persist ex 1
        getex a exat -1
        getex a foo
        getex a ex
        getex a exat 99999999999999999
        getex a ex 99999999999999999
        getex a ex 9999999999999999
        getex a ex abc
        getex missing ex abc
        getex missing ex 0
        getex l1 ex 0
        getex l1
        getex a ex 100 ex 300
        ttl a
        getex a persist persist
        ttl a
        getex a pxat 1899999999000
        pexpiretime a
        getex a
        getex a exat 1
        exists a
        getdel l1
        getdel e
        getdel e
        touch e l1 l2 s z
        touch
        set a b ex 100 ex 200
        ttl a
        set a b nx nx
        set a b get get
        set a b keepttl keepttl
        set a b keepttl ex 10
        set a b px 10 ex 10
        lcs
        set k1 ohmytext
        set k2 mynewtext
        lcs k1 k2
        lcs k1 k2 len
        lcs k1 k2 idx
        lcs k1 k2 idx minmatchlen 4 withmatchlen
        lcs k1 k2 idx withmatchlen
        lcs k1 k2 idx len
        lcs k1 k2 minmatchlen x
        lcs k1 k2 minmatchlen
        lcs nokey1 nokey2
        lcs nokey1 nokey2 idx
        lcs l2 nokey1
        lcs nokey1 l2
        lcs l2 nokey1 foo
        lcs nokey1 nokey2 foo
        lcs nokey1 nokey2 minmatchlen -5 idx
        set k3 abcbdab
        set k4 bdcaba
        lcs k3 k4 idx withmatchlen
        lcs k4 k3 idx withmatchlen
        lcs k3 k4
        """),
    ];

    public static string[] Lines(string name)
        => All.Single(s => s.Name == name).Text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToArray();

    /// <summary>Splits a line at spaces; "..." keeps spaces and takes \xHH escapes for binary bytes.</summary>
    public static string[] Split(string line)
    {
        var args = new List<string>();
        var current = new StringBuilder();
        bool quoted = false, any = false;
        for (int i = 0; i < line.Length; i++)
        {
            char c = line[i];
            if (c == '"')
            {
                quoted = !quoted;
                any = true;
            }
            else if (quoted && c == '\\' && i + 3 < line.Length && line[i + 1] == 'x')
            {
                current.Append((char)Convert.ToByte(line.Substring(i + 2, 2), 16));
                i += 3;
            }
            else if (c == ' ' && !quoted)
            {
                if (any)
                    args.Add(current.ToString());
                current.Clear();
                any = false;
            }
            else
            {
                current.Append(c);
                any = true;
            }
        }
        if (any)
            args.Add(current.ToString());
        return args.ToArray();
    }
}
