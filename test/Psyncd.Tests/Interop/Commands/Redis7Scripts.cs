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
        ("lists-sets-hashes", """
        flushall
        rpush l a b c 1 2 3 c c
        lpos l c
        lpos l c rank 2
        lpos l c rank -1
        lpos l c rank 0
        lpos l c count 0
        lpos l c count 2
        lpos l c rank -2 count 0
        lpos l c maxlen 3
        lpos l c maxlen 0 count 0
        lpos l c maxlen -1
        lpos l c count -1
        lpos l c rank x
        lpos l c foo
        lpos l c rank
        lpos l z
        lpos l z count 0
        lpos nokey z
        lpos nokey z count 1
        lpos l c rank -9223372036854775808
        set str x
        lpos str c
        lmpop
        lmpop 1 l
        lmpop 0 l left
        lmpop -1 l left
        lmpop 1 l middle
        lmpop 2 l left
        lmpop 1 l left
        lmpop 1 l left count 2
        lmpop 1 l right count 0
        lmpop 1 l right count -1
        lmpop 1 l right count x
        lmpop 1 l right count 1 count 2
        lmpop 1 l right foo
        lmpop 2 nokey l right count 100
        lmpop 2 nokey l right count 100
        lmpop 1 str left
        lmpop 2 nokey str left
        lmpop 99999999999 l left
        rpush l q
        blmpop 0 1 l left
        blmpop -1 1 l left
        blmpop x 1 l left
        blmpop 0.01 1 nokey left
        blmpop 0.01 0 nokey left
        sadd s1 a b c d
        sadd s2 c d e
        sintercard 2 s1 s2
        sintercard 2 s1 s2 limit 1
        sintercard 2 s1 s2 limit 0
        sintercard 2 s1 s2 limit -1
        sintercard 0 s1
        sintercard 3 s1 s2
        sintercard 1 s1 foo
        sintercard 1 s1 limit
        sintercard 2 s1 nokey
        sintercard 2 s1 str
        sintercard x s1
        smismember s1 a z c
        smismember nokey a
        smismember str a
        hset h a 1
        hrandfield h 0
        hrandfield h -2 withvalues
        hrandfield h 5 withvalues
        hrandfield h 1
        hrandfield h
        hrandfield h x
        hrandfield nokey
        hrandfield nokey 3
        hrandfield nokey 3 withvalues
        hrandfield str
        hrandfield h -9223372036854775808
        sort_ro l
        sort_ro l store x
        sort_ro l limit 0 1 alpha
        blmpop x 0 l left
        blmpop x 1 l left count 0
        blmpop 0.01 2 nokey str left
        rpush l a b c
        blmpop 0 2 nokey l right count 2
        blmpop 0 2 nokey l left count 5
        exists l
        zadd z 1 a 2 b 3 c 4 d 5 e 6 f
        bzpopmin z 0
        bzpopmax nokey z 0
        bzpopmin nokey 0.01
        bzpopmin str 0.01
        bzpopmin z -1
        bzpopmin z x
        bzmpop 0 1 z min
        bzmpop 0 1 z max count 10
        bzmpop 0.01 1 z max count 10
        zmpop 1 str min
        zmpop 0 z min
        zmpop 1 z med
        zadd z 1 a 2 b 3 c
        zmpop 2 nokey z min count 2
        zmpop 2 nokey z max count 0
        zmpop 2 nokey z max count 1 count 1
        zmpop 1 z max
        zmpop 1 z max
        multi
        blmpop 0 1 nokey left
        bzpopmin nokey 0
        bzmpop 0 1 nokey min
        exec
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
