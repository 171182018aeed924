using System.Text;
using System.Text.RegularExpressions;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Protocol;

/// <summary>
/// Every command family run on psyncd and on a real redis-server, once on a connection that chose RESP3
/// (HELLO 3) and once on a RESP2 one: the reply bytes must be the same. What Redis leaves unordered (a map's
/// pairs, a set's members, the arrays of HKEYS, KEYS, SCAN...) is compared sorted, and replies that hold
/// values of the moment (TIME, CLIENT ID, INFO...) are compared by their shape: the types and counts.
/// </summary>
/// <remarks>
/// Script lines are one command each, arguments split on spaces. A leading <c>~</c> marks a reply whose
/// arrays are unordered (sorted at every level before comparing); a leading <c>?</c> one compared by shape.
/// </remarks>
[Category("Interop")]
public class Resp3DifferentialTests : DifferentialFixture
{
    private static readonly Dictionary<string, string[]> s_families = new()
    {
        ["string"] =
        [
            "SET s v", "GET s", "GET nokey", "MGET s nokey s", "SET s2 v GET", "SET s3 v NX GET", "SET s v NX", "SET s v XX GET",
            "GETSET s w", "INCRBYFLOAT f 1.5", "INCRBYFLOAT f 1e3", "INCRBYFLOAT f -3000.25", "GETRANGE s 0 -1", "SUBSTR s 0 -1",
            "STRLEN s", "BITPOS s 1", "BITCOUNT s", "APPEND s x", "INCR n", "DECRBY n 5", "INCRBY n 2", "DECR n", "SETRANGE s 5 abc",
            "GETBIT s 3", "SETBIT s 3 1", "MSET a 1 b 2", "MSETNX a 1 c 3", "PSETEX p 100000 v", "SETEX e 100 v", "SETNX s x",
            "BITOP AND dest s a", "GET dest", "INCR s",
        ],
        ["key"] =
        [
            "SET k v", "EXISTS k nokey", "TTL k", "PTTL k", "TYPE k", "TYPE nokey", "EXPIRE k 100", "TTL k", "PERSIST k",
            "OBJECT ENCODING k", "OBJECT ENCODING nokey", "OBJECT REFCOUNT k", "OBJECT REFCOUNT nokey", "?OBJECT IDLETIME k",
            "RENAME k k2", "RENAMENX k2 k3", "RENAME nokey x", "MOVE k3 9", "RANDOMKEY", "SET k4 v", "~KEYS *", "~SCAN 0 COUNT 100",
            "DUMP nokey", "DEL k4 nokey", "UNLINK k2", "PEXPIRE k4 100", "EXPIREAT k4 1", "EXISTS k4", "RANDOMKEY",
        ],
        ["list"] =
        [
            "RPUSH l a b c d", "LRANGE l 0 -1", "LRANGE nol 0 -1", "LPOP l", "LPOP l 2", "LPOP nol", "LPOP nol 2", "RPOP nol",
            "RPOP nol 2", "RPOP l 0", "LINDEX l 10", "LINDEX l 0", "RPUSH l x y", "LMOVE l l2 LEFT RIGHT", "LMOVE nol l2 LEFT RIGHT",
            "RPOPLPUSH nol x", "RPOPLPUSH l l2", "BLPOP l 0.01", "BLPOP nol 0.01", "BRPOP nol nol2 0.01", "BRPOPLPUSH nol x 0.01",
            "BLMOVE nol x LEFT LEFT 0.01", "BLMOVE l2 l LEFT LEFT 0.01", "LINSERT l BEFORE zz q", "LINSERT l AFTER x q",
            "LLEN l", "LREM l 0 q", "LSET l 0 w", "LSET nol 0 w", "LTRIM l 0 1", "LPUSHX nol a", "RPUSHX l z", "LRANGE l 0 -1",
        ],
        ["hash"] =
        [
            "HSET h a 1 b 2 c 3.5", "HGETALL h", "HGETALL noh", "~HKEYS h", "~HVALS h", "HKEYS noh", "HMGET h a z", "HGET h z",
            "HGET h a", "HINCRBY h a 5", "HINCRBYFLOAT h c 1.25", "HINCRBYFLOAT h c 1e2", "~HSCAN h 0", "HSCAN noh 0", "HSTRLEN h a",
            "HEXISTS h a", "HLEN h", "HDEL h b nofield", "HSETNX h a 9", "HMSET h d 4", "HGETALL h", "HINCRBY h d x",
        ],
        ["set"] =
        [
            "SADD st a b c", "~SMEMBERS st", "SMEMBERS nost", "~SINTER st st", "SINTER st nost", "~SUNION st nost", "~SDIFF st nost",
            "SDIFF nost st", "SADD one x", "SPOP one", "SADD one x", "SRANDMEMBER one", "SRANDMEMBER one 3", "SRANDMEMBER one -2",
            "SRANDMEMBER nost", "SRANDMEMBER nost 2", "SPOP nost", "SPOP nost 2", "SPOP st 0", "SADD two p q", "~SPOP two 5",
            "SISMEMBER st a", "SISMEMBER st z", "~SSCAN st 0", "SCARD st", "SMOVE st other a", "SINTERSTORE d st other",
            "SUNIONSTORE d st other", "SDIFFSTORE d st other", "SREM st b", "SADD ints 3 1 2", "SMEMBERS ints", "SINTER ints ints",
        ],
        ["zset"] =
        [
            "ZADD z 1 a 2.5 b 3 c", "ZADD z INCR 1 a", "ZADD z XX INCR 1 nomember", "ZADD z NX INCR 1 a", "ZINCRBY z 1 a",
            "ZINCRBY z 0.1 b", "ZSCORE z a", "ZSCORE z b", "ZSCORE z nomember", "ZSCORE noz a", "ZRANGE z 0 -1", "ZRANGE z 0 -1 WITHSCORES",
            "ZRANGE z 0 0 WITHSCORES", "ZRANGE z 5 6 WITHSCORES", "ZRANGE noz 0 -1 WITHSCORES", "ZRANGE z (1 +inf BYSCORE WITHSCORES LIMIT 0 2",
            "ZRANGE z +inf -inf BYSCORE REV WITHSCORES", "ZREVRANGE z 0 -1 WITHSCORES", "ZRANGEBYSCORE z -inf +inf WITHSCORES",
            "ZREVRANGEBYSCORE z +inf -inf WITHSCORES LIMIT 1 1", "ZRANGEBYLEX z - +", "ZREVRANGEBYLEX z + -", "ZRANK z a",
            "ZRANK z nomember", "ZREVRANK z a", "ZCOUNT z -inf +inf", "ZLEXCOUNT z - +", "ZCARD z", "ZPOPMIN z", "ZPOPMAX z 1",
            "ZPOPMIN noz", "ZPOPMIN noz 2", "ZADD z 1 a 2 b 3 c", "ZPOPMIN z 2", "ZPOPMAX z 0", "ZSCAN z 0", "ZSCAN noz 0",
            "ZADD z inf i -inf j 0.1 k 1e20 l -0 m", "ZSCORE z i", "ZSCORE z j", "ZSCORE z k", "ZSCORE z l", "ZSCORE z m",
            "ZRANGE z 0 -1 WITHSCORES", "ZSCAN z 0", "ZINCRBY z 1e-5 k", "ZADD z2 2 a 4 k", "ZINTERSTORE d 2 z z2 WEIGHTS 1 2",
            "ZRANGE d 0 -1 WITHSCORES", "ZUNIONSTORE d 2 z z2 AGGREGATE MAX", "ZREM z a nomember", "ZREMRANGEBYRANK z 0 0",
            "ZREMRANGEBYSCORE z 0 1", "ZREMRANGEBYLEX z - +", "ZADD z 1 a", "ZINCRBY z nan a", "ZADD z INCR -inf a",
        ],
        ["hyperloglog"] = ["PFADD pf a b c", "PFADD pf a", "PFCOUNT pf", "PFCOUNT nopf", "PFMERGE pf2 pf", "PFCOUNT pf pf2"],
        ["sort"] =
        [
            "RPUSH sl 3 1 2", "SORT sl", "SORT nosl", "SORT sl DESC LIMIT 0 2", "SORT sl BY nosort GET # GET nokey_*",
            "MSET w_1 x w_2 y", "SORT sl GET w_*", "SORT sl ALPHA STORE dst", "LRANGE dst 0 -1", "SADD ss b a", "SORT ss ALPHA",
        ],
        ["server"] =
        [
            "PING", "PING x", "ECHO x", "DBSIZE", "?TIME", "?LASTSAVE", "ROLE", "CONFIG GET maxmemory", "CONFIG GET nonexistent-param",
            "CONFIG GET maxmemory-policy hz", "SLOWLOG GET 0", "?SLOWLOG LEN", "CLIENT GETNAME", "CLIENT SETNAME me", "CLIENT GETNAME",
            "?CLIENT ID", "?CLIENT INFO", "?CLIENT LIST", "?INFO keyspace", "?INFO", "SELECT 99", "WAIT 0 0", "PUBSUB CHANNELS",
            "PUBSUB NUMSUB a b", "PUBSUB NUMPAT", "?COMMAND COUNT", "CLIENT SETNAME", "NOSUCHCOMMAND x", "GET", "DEBUG DIGEST-VALUE nokey",
        ],
        ["transaction"] =
        [
            "SET tk v", "HSET th a 1", "SADD ts m", "MULTI", "GET tk", "GET nokey", "HGETALL th", "SMEMBERS ts", "ZSCORE nokey a",
            "EXEC", "WATCH tk", "SET tk w", "MULTI", "GET tk", "EXEC", "EXEC", "DISCARD", "MULTI", "NOSUCHCOMMAND", "EXEC",
        ],
    };

    public static IEnumerable<string> Families => s_families.Keys;

    [TestCaseSource(nameof(Families))]
    public void Resp3RepliesMatchRedis(string family) => RunFamily(family, protocol: 3);

    /// <summary>RESP2 stays the default and its bytes are Redis's: the same scripts without HELLO 3.</summary>
    [TestCaseSource(nameof(Families))]
    public void Resp2RepliesMatchRedis(string family) => RunFamily(family, protocol: 2);

    private void RunFamily(string family, int protocol)
    {
        // Each family in a database of its own, so the families share the servers without seeing each other.
        string db = (Families.ToList().IndexOf(family) + 1).ToString();
        using var p = _psyncd.Connect();
        using var r = _redis.Connect();
        foreach (var c in new[] { p, r })
        {
            if (protocol == 3)
                Assert.That(c.Command("HELLO", "3"), Does.StartWith("%7\r\n"));
            Assert.That(c.Command("SELECT", db), Is.EqualTo("+OK\r\n"));
            Assert.That(c.Command("FLUSHDB"), Is.EqualTo("+OK\r\n"));
        }
        var failures = new List<string>();
        foreach (var line in s_families[family])
        {
            bool unordered = line.StartsWith('~');
            bool shapeOnly = line.StartsWith('?');
            var command = line.TrimStart('~', '?').Split(' ');
            string name = command[0].ToUpperInvariant();
            // A map is a flat array of pairs under RESP2, a set a plain array: their order is Redis's hash order.
            bool pairs = name is "HGETALL" or "CONFIG";
            unordered |= name is "SMEMBERS" or "SINTER" or "SUNION" or "SDIFF" or "SPOP";
            string theirs = r.Command(command), mine = p.Command(command);
            string a = Canonical(theirs, unordered, shapeOnly, pairs), b = Canonical(mine, unordered, shapeOnly, pairs);
            if (a != b)
                failures.Add(line + "\n  redis:  " + Show(theirs) + "\n  psyncd: " + Show(mine));
        }
        Assert.That(failures, Is.Empty, "RESP" + protocol + " replies differ:\n" + string.Join('\n', failures));
    }

    /// <summary>
    /// A RESP3 client in subscribed mode: confirmations and messages are pushes, and any command runs between
    /// them (a RESP2 client is limited to the subscription commands and gets ["pong", x] for PING).
    /// </summary>
    [TestCase(2)]
    [TestCase(3)]
    public void PubSubMatchesRedis(int protocol)
    {
        var theirs = PubSubTranscript(_redis, protocol);
        var mine = PubSubTranscript(_psyncd, protocol);
        Assert.That(mine, Is.EqualTo(theirs));
    }

    private static List<string> PubSubTranscript(ServerProcess server, int protocol)
    {
        using var s = server.Connect();
        using var publisher = server.Connect();
        var log = new List<string>();
        void Do(int replies, params string[] args)
        {
            s.Send(args);
            for (int i = 0; i < replies; i++)
                log.Add(string.Join(' ', args) + " => " + s.ReadReply());
        }
        if (protocol == 3)
            s.Command("HELLO", "3");
        Do(1, "UNSUBSCRIBE");
        Do(1, "PUNSUBSCRIBE");
        Do(2, "UNSUBSCRIBE", "rx", "ry");
        Do(2, "SUBSCRIBE", "ra", "rb");
        Do(1, "PSUBSCRIBE", "ra*");
        log.Add("PUBLISH => " + publisher.Command("PUBLISH", "ra", "hi"));
        log.Add("message => " + s.ReadReply());
        log.Add("pmessage => " + s.ReadReply());
        Do(1, "PING");
        Do(1, "PING", "x");
        Do(1, "GET", "nokey");
        Do(1, "HGETALL", "nokey");
        Do(1, "HELLO", "2", "x");
        Do(1, "UNSUBSCRIBE", "rb");
        Do(1, "SUBSCRIBE", "ra");
        // One channel left: unsubscribing from all names it alone (several would come in hash order).
        Do(1, "UNSUBSCRIBE");
        Do(1, "PUNSUBSCRIBE");
        Do(1, "PING");
        return log;
    }

    /// <summary>HELLO's answers and errors, with and without requirepass, the client id and version masked.</summary>
    [Test]
    public void HelloMatchesRedis()
    {
        using var redisAuth = ServerProcess.StartRedis("--requirepass", "secret");
        using var psyncdAuth = ServerProcess.StartPsyncd("--requirepass", "secret");
        string[][] open =
        [
            ["HELLO"], ["HELLO", "3"], ["HELLO"], ["HELLO", "2"], ["HELLO", "4"], ["HELLO", "1"], ["HELLO", "0"], ["HELLO", "-1"],
            ["HELLO", "abc"], ["HELLO", "99999999999999999999"], ["HELLO", "3", "AUTH", "default", "x"], ["HELLO", "3", "AUTH", "foo", "bar"],
            ["HELLO", "3", "AUTH", "default"], ["HELLO", "3", "AUTH"], ["HELLO", "3", "foo"], ["HELLO", "3", "SETNAME"],
            ["HELLO", "3", "SETNAME", "a b"], ["HELLO", "3", "SETNAME", "x", "y"], ["CLIENT", "GETNAME"], ["HELLO", "2", "SETNAME", ""],
            ["CLIENT", "GETNAME"], ["HELLO", "3", "auth", "default", "b", "c"], ["HELLO", "3", "setname", "q", "SETNAME", "a b"],
            ["CLIENT", "GETNAME"], ["HELLO", "2", "SETNAME", "n1", "SETNAME", "n2"], ["CLIENT", "GETNAME"], ["GET", "nokey"],
        ];
        string[][] guarded =
        [
            ["GET", "x"], ["HELLO"], ["HELLO", "3"], ["HELLO", "3", "SETNAME", "foo"], ["HELLO", "2", "AUTH", "default", "wrong"],
            ["HELLO", "2", "AUTH", "bob", "secret"], ["HELLO", "3", "AUTH", "a", "b", "c"], ["HELLO", "3", "AUTH", "default", "secret", "SETNAME", "a b"],
            ["CLIENT", "GETNAME"], ["HELLO", "3", "SETNAME", "nm", "AUTH", "default", "secret"], ["CLIENT", "GETNAME"], ["GET", "x"],
            ["HELLO", "3", "AUTH", "default", "secret", "foo"], ["HELLO", "2"], ["GET", "x"],
        ];
        Assert.That(HelloTranscript(_psyncd, open), Is.EqualTo(HelloTranscript(_redis, open)));
        Assert.That(HelloTranscript(psyncdAuth, guarded), Is.EqualTo(HelloTranscript(redisAuth, guarded)));
    }

    private static List<string> HelloTranscript(ServerProcess server, string[][] commands)
    {
        using var c = server.Connect();
        var log = new List<string>();
        foreach (var command in commands)
        {
            string reply = c.Command(command);
            reply = Regex.Replace(reply, @"\$2\r\nid\r\n:\d+\r\n", "$$2\r\nid\r\n:ID\r\n");
            reply = Regex.Replace(reply, @"\$7\r\nversion\r\n\$\d+\r\n[0-9.]+\r\n", "$$7\r\nversion\r\nVERSION\r\n");
            log.Add(string.Join(' ', command) + " => " + reply);
        }
        return log;
    }

    /// <summary>CLIENT LIST and CLIENT INFO show the protocol a connection chose (<c>resp=</c>).</summary>
    [Test]
    public void ClientListShowsTheProtocol()
    {
        using var c = _psyncd.Connect();
        Assert.That(c.Command("CLIENT", "INFO"), Does.Contain(" resp=2\n"));
        c.Command("HELLO", "3");
        Assert.That(c.Command("CLIENT", "INFO"), Does.StartWith("=").And.Contain(" resp=3\n"));
        c.Command("HELLO", "2");
        Assert.That(c.Command("CLIENT", "INFO"), Does.StartWith("$").And.Contain(" resp=2\n"));
    }

    // ------------------------------------------------------------------
    // Canonical forms
    // ------------------------------------------------------------------

    private static string Canonical(string reply, bool unordered, bool shapeOnly, bool pairs = false)
    {
        var tree = RespTree.Parse(reply);
        if (pairs && tree.Type == '*' && tree.Items.Count % 2 == 0)
        {
            // RESP2's flat map: compare its pairs as RESP3's map is compared.
            var text = new List<string>();
            for (int i = 0; i < tree.Items.Count; i += 2)
                text.Add(tree.Items[i].Canonical(unordered, shapeOnly) + "=>" + tree.Items[i + 1].Canonical(unordered, shapeOnly));
            text.Sort(StringComparer.Ordinal);
            return tree.Text + "(" + string.Join(",", text) + ")";
        }
        return tree.Canonical(unordered, shapeOnly);
    }

    private static string Show(string reply)
    {
        var s = reply.Replace("\r\n", "\\r\\n");
        return s.Length > 600 ? s[..600] + "..." : s;
    }
}
