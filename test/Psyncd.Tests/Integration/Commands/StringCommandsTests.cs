using System.Diagnostics;
using Psyncd.Tests.Support;
using StackExchange.Redis;

namespace Psyncd.Tests.Integration.Commands;

/// <summary>The string commands, reply byte for reply byte (texts checked against redis-server 7.0.15).</summary>
public class StringCommandsTests : PsyncdFixture
{
    [Test]
    public void SetNxSetsOnlyAMissingKey()
    {
        Assert.That(Do("SETNX", "nx:a", "1"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("SETNX", "nx:a", "2"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("GET", "nx:a"), Is.EqualTo("$1\r\n1\r\n"));
        Assert.That(Do("SETNX", "nx:a"), Is.EqualTo("-ERR wrong number of arguments for 'setnx' command\r\n"));
    }

    [Test]
    public void SetExAndPSetExSetATimeToLiveAndRejectBadOnes()
    {
        var set = Stopwatch.StartNew();
        Assert.That(Do("SETEX", "ex:a", "100", "v"), Is.EqualTo("+OK\r\n"));
        AssertTtl("ex:a", 100, set);
        Assert.That(Do("PSETEX", "ex:b", "100000", "v"), Is.EqualTo("+OK\r\n"));
        Assert.That(long.Parse(Do("PTTL", "ex:b")[1..^2]), Is.InRange(98_000, 100_000));
        Assert.That(Do("SETEX", "ex:a", "0", "v"), Is.EqualTo("-ERR invalid expire time in 'setex' command\r\n"));
        Assert.That(Do("PSETEX", "ex:a", "-5", "v"), Is.EqualTo("-ERR invalid expire time in 'psetex' command\r\n"));
        Assert.That(Do("SETEX", "ex:a", "9223372036854775807", "v"), Is.EqualTo("-ERR invalid expire time in 'setex' command\r\n"));
        Assert.That(Do("SETEX", "ex:a", "ten", "v"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"));
        Assert.That(Do("GET", "ex:a"), Is.EqualTo("$1\r\nv\r\n"));
    }

    [Test]
    public void MGetMSetAndMSetNx()
    {
        Assert.That(Do("MSET", "m:a", "1", "m:b", "2"), Is.EqualTo("+OK\r\n"));
        Assert.That(Do("MGET", "m:a", "m:missing", "m:b"), Is.EqualTo("*3\r\n$1\r\n1\r\n$-1\r\n$1\r\n2\r\n"));
        Assert.That(Do("MSET", "m:a", "1", "m:b"), Is.EqualTo("-ERR wrong number of arguments for 'mset' command\r\n"));
        Assert.That(Do("MSETNX", "m:c", "3", "m:a", "x"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("EXISTS", "m:c"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("MSETNX", "m:c", "3", "m:d", "4", "m:c", "5"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("MGET", "m:c", "m:d"), Is.EqualTo("*2\r\n$1\r\n5\r\n$1\r\n4\r\n"));
    }

    [Test]
    public void GetSetReturnsTheOldValueAndClearsTheTimeToLive()
    {
        Assert.That(Do("GETSET", "gs:a", "1"), Is.EqualTo("$-1\r\n"));
        Assert.That(Do("EXPIRE", "gs:a", "100"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("GETSET", "gs:a", "2"), Is.EqualTo("$1\r\n1\r\n"));
        Assert.That(Do("TTL", "gs:a"), Is.EqualTo(":-1\r\n"));
    }

    [Test]
    public void AppendGrowsInPlaceAcrossTheInlineLimit()
    {
        Assert.That(Do("APPEND", "ap:a", "hello"), Is.EqualTo(":5\r\n"));
        Assert.That(Do("APPEND", "ap:a", " world"), Is.EqualTo(":11\r\n"));
        Assert.That(Do("GET", "ap:a"), Is.EqualTo("$11\r\nhello world\r\n"));
        // Past the largest inline value the string moves to the heap; its bytes must survive the move.
        var chunk = new string('z', 1000);
        for (int i = 0; i < 40; i++)
            Do("APPEND", "ap:b", chunk);
        Assert.That(Do("STRLEN", "ap:b"), Is.EqualTo(":40000\r\n"));
        Assert.That(Do("APPEND", "ap:b", "!"), Is.EqualTo(":40001\r\n"));
        Assert.That(Do("GETRANGE", "ap:b", "-3", "-1"), Is.EqualTo("$3\r\nzz!\r\n"));
        Assert.That(Do("APPEND", "ap:empty", ""), Is.EqualTo(":0\r\n"));
        Assert.That(Do("EXISTS", "ap:empty"), Is.EqualTo(":1\r\n"));
    }

    [Test]
    public void AppendKeepsTheTimeToLive()
    {
        var set = Stopwatch.StartNew();
        Assert.That(Do("SET", "ap:ttl", "a", "EX", "100"), Is.EqualTo("+OK\r\n"));
        Assert.That(Do("APPEND", "ap:ttl", new string('b', 100)), Is.EqualTo(":101\r\n"));
        AssertTtl("ap:ttl", 100, set);
    }

    [Test]
    public void StrLenOfMissingKeyIsZero()
    {
        Assert.That(Do("STRLEN", "sl:missing"), Is.EqualTo(":0\r\n"));
        Do("SET", "sl:a", "abc");
        Assert.That(Do("STRLEN", "sl:a"), Is.EqualTo(":3\r\n"));
    }

    [Test]
    public void IncrFamilyCountsAndRefusesNonIntegersAndOverflow()
    {
        Assert.That(Do("INCR", "in:a"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("INCRBY", "in:a", "41"), Is.EqualTo(":42\r\n"));
        Assert.That(Do("DECR", "in:a"), Is.EqualTo(":41\r\n"));
        Assert.That(Do("DECRBY", "in:a", "50"), Is.EqualTo(":-9\r\n"));
        Assert.That(Do("GET", "in:a"), Is.EqualTo("$2\r\n-9\r\n"));
        for (int i = 0; i < 20; i++)
            Do("INCRBY", "in:a", "1000");
        Assert.That(Do("GET", "in:a"), Is.EqualTo("$5\r\n19991\r\n"));

        Do("SET", "in:max", "9223372036854775807");
        Assert.That(Do("INCR", "in:max"), Is.EqualTo("-ERR increment or decrement would overflow\r\n"));
        Do("SET", "in:min", "-9223372036854775808");
        Assert.That(Do("DECR", "in:min"), Is.EqualTo("-ERR increment or decrement would overflow\r\n"));
        Assert.That(Do("DECRBY", "in:a", "-9223372036854775808"), Is.EqualTo("-ERR decrement would overflow\r\n"));

        foreach (var bad in new[] { " 1", "1 ", "+1", "01", "-0", "1.0", "", "9223372036854775808", "abc" })
        {
            Do("SET", "in:bad", bad);
            Assert.That(Do("INCR", "in:bad"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"), bad);
            Assert.That(Do("INCRBY", "in:a", bad), Is.EqualTo("-ERR value is not an integer or out of range\r\n"), bad);
        }
    }

    [Test]
    public void IncrKeepsTheTimeToLive()
    {
        var set = Stopwatch.StartNew();
        Do("SET", "in:ttl", "9", "EX", "100");
        Assert.That(Do("INCR", "in:ttl"), Is.EqualTo(":10\r\n"));
        AssertTtl("in:ttl", 100, set);
    }

    [TestCase(null, "0.1", "0.1")]
    [TestCase("0.1", "0.2", "0.3")] // long double: a double would give 0.30000000000000004
    [TestCase("10.5", "0.1", "10.6")]
    [TestCase("5.0e3", "2.0e2", "5200")]
    [TestCase("1000000.1", "0", "1000000.10000000000002274")]
    [TestCase("3", "-3", "0")]
    [TestCase(null, "-1e-30", "0")] // "%.17Lf" gives -0.00000000000000000, trimmed to "-0", written "0"
    [TestCase(null, "0x10", "16")] // strtold reads hexadecimal
    [TestCase(null, "1.5e-17", "0.00000000000000002")]
    [TestCase(null, "123456789012345678901234567890", "123456789012345678899921813504")] // rounded to a 64-bit mantissa
    [TestCase(null, "1e300", "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144")]
    public void IncrByFloatPrintsAsRedisDoes(string? start, string increment, string expected)
    {
        string key = "fl:" + Guid.NewGuid().ToString("N");
        if (start is not null)
            Do("SET", key, start);
        Assert.That(Do("INCRBYFLOAT", key, increment), Is.EqualTo("$" + expected.Length + "\r\n" + expected + "\r\n"));
        Assert.That(Do("GET", key), Is.EqualTo("$" + expected.Length + "\r\n" + expected + "\r\n"));
    }

    [Test]
    public void IncrByFloatRefusesWhatRedisRefuses()
    {
        Assert.That(Do("INCRBYFLOAT", "fl:x", "abc"), Is.EqualTo("-ERR value is not a valid float\r\n"));
        Assert.That(Do("INCRBYFLOAT", "fl:x", " 1"), Is.EqualTo("-ERR value is not a valid float\r\n"));
        Assert.That(Do("INCRBYFLOAT", "fl:x", "1e"), Is.EqualTo("-ERR value is not a valid float\r\n"));
        Assert.That(Do("INCRBYFLOAT", "fl:x", "nan"), Is.EqualTo("-ERR value is not a valid float\r\n"));
        Assert.That(Do("INCRBYFLOAT", "fl:x", "1e5000"), Is.EqualTo("-ERR value is not a valid float\r\n"));
        Assert.That(Do("INCRBYFLOAT", "fl:x", "1e-5000"), Is.EqualTo("-ERR value is not a valid float\r\n"));
        Assert.That(Do("INCRBYFLOAT", "fl:x", "inf"), Is.EqualTo("-ERR increment would produce NaN or Infinity\r\n"));
        Assert.That(Do("EXISTS", "fl:x"), Is.EqualTo(":0\r\n"));
        Do("SET", "fl:text", "1.5 ");
        Assert.That(Do("INCRBYFLOAT", "fl:text", "1"), Is.EqualTo("-ERR value is not a valid float\r\n"));
    }

    [Test]
    public void GetRangeAndSubstrUseRedisIndexRules()
    {
        Do("SET", "gr:a", "Hello World");
        Assert.That(Do("GETRANGE", "gr:a", "0", "4"), Is.EqualTo("$5\r\nHello\r\n"));
        Assert.That(Do("GETRANGE", "gr:a", "-5", "-1"), Is.EqualTo("$5\r\nWorld\r\n"));
        Assert.That(Do("GETRANGE", "gr:a", "-1", "-5"), Is.EqualTo("$0\r\n\r\n"));
        Assert.That(Do("GETRANGE", "gr:a", "5", "1000"), Is.EqualTo("$6\r\n World\r\n"));
        Assert.That(Do("GETRANGE", "gr:a", "-100", "2"), Is.EqualTo("$3\r\nHel\r\n"));
        Assert.That(Do("SUBSTR", "gr:a", "6", "-1"), Is.EqualTo("$5\r\nWorld\r\n"));
        Assert.That(Do("GETRANGE", "gr:missing", "0", "-1"), Is.EqualTo("$0\r\n\r\n"));
        Assert.That(Do("GETRANGE", "gr:a", "x", "1"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"));
    }

    [Test]
    public void SetRangePadsWithZerosAndChecksLimits()
    {
        Assert.That(Do("SETRANGE", "sr:a", "5", "xy"), Is.EqualTo(":7\r\n"));
        Assert.That(Do("GET", "sr:a"), Is.EqualTo("$7\r\n\0\0\0\0\0xy\r\n"));
        Assert.That(Do("SETRANGE", "sr:a", "0", "ab"), Is.EqualTo(":7\r\n"));
        Assert.That(Do("GET", "sr:a"), Is.EqualTo("$7\r\nab\0\0\0xy\r\n"));
        Assert.That(Do("SETRANGE", "sr:a", "3", ""), Is.EqualTo(":7\r\n"));
        Assert.That(Do("SETRANGE", "sr:none", "3", ""), Is.EqualTo(":0\r\n"));
        Assert.That(Do("EXISTS", "sr:none"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("SETRANGE", "sr:a", "-1", "x"), Is.EqualTo("-ERR offset is out of range\r\n"));
        Assert.That(Do("SETRANGE", "sr:a", "536870911", "xx"), Is.EqualTo("-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n"));
        Assert.That(Do("SETRANGE", "sr:a", "x", "xx"), Is.EqualTo("-ERR value is not an integer or out of range\r\n"));
        Do("SET", "sr:int", "1234");
        Assert.That(Do("SETRANGE", "sr:int", "0", "2"), Is.EqualTo(":4\r\n"));
        Assert.That(Do("GET", "sr:int"), Is.EqualTo("$4\r\n2234\r\n"));
    }

    [Test]
    public void SetBitAndGetBit()
    {
        Assert.That(Do("SETBIT", "bit:a", "7", "1"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("GET", "bit:a"), Is.EqualTo("$1\r\n\u0001\r\n"));
        Assert.That(Do("SETBIT", "bit:a", "7", "1"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("SETBIT", "bit:a", "7", "0"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("SETBIT", "bit:a", "100", "1"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("STRLEN", "bit:a"), Is.EqualTo(":13\r\n"));
        Assert.That(Do("GETBIT", "bit:a", "100"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("GETBIT", "bit:a", "99"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("GETBIT", "bit:a", "10000"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("GETBIT", "bit:missing", "3"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("SETBIT", "bit:a", "4294967296", "1"), Is.EqualTo("-ERR bit offset is not an integer or out of range\r\n"));
        Assert.That(Do("SETBIT", "bit:a", "-1", "1"), Is.EqualTo("-ERR bit offset is not an integer or out of range\r\n"));
        Assert.That(Do("SETBIT", "bit:a", "1", "2"), Is.EqualTo("-ERR bit is not an integer or out of range\r\n"));
        Assert.That(Do("GETBIT", "bit:a", "x"), Is.EqualTo("-ERR bit offset is not an integer or out of range\r\n"));
    }

    [Test]
    public void BitCountWithByteAndBitRanges()
    {
        Do("SET", "bc:a", "foobar");
        Assert.That(Do("BITCOUNT", "bc:a"), Is.EqualTo(":26\r\n"));
        Assert.That(Do("BITCOUNT", "bc:a", "0", "0"), Is.EqualTo(":4\r\n"));
        Assert.That(Do("BITCOUNT", "bc:a", "1", "1"), Is.EqualTo(":6\r\n"));
        Assert.That(Do("BITCOUNT", "bc:a", "1", "1", "BYTE"), Is.EqualTo(":6\r\n"));
        Assert.That(Do("BITCOUNT", "bc:a", "5", "30", "BIT"), Is.EqualTo(":17\r\n"));
        Assert.That(Do("BITCOUNT", "bc:a", "-2", "-1"), Is.EqualTo(":7\r\n"));
        Assert.That(Do("BITCOUNT", "bc:a", "-1", "-2"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("BITCOUNT", "bc:a", "0"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("BITCOUNT", "bc:a", "0", "1", "BITS"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("BITCOUNT", "bc:missing", "x", "y"), Is.EqualTo(":0\r\n"), "7.0 looks the key up first");
    }

    [Test]
    public void BitPosFindsSetAndClearBits()
    {
        Do("SET", "bp:a", "\u00ff\u00f0\u0000");
        Assert.That(Do("BITPOS", "bp:a", "0"), Is.EqualTo(":12\r\n"));
        Assert.That(Do("BITPOS", "bp:a", "1", "2"), Is.EqualTo(":-1\r\n"));
        Assert.That(Do("BITPOS", "bp:a", "1", "1"), Is.EqualTo(":8\r\n"));
        Assert.That(Do("BITPOS", "bp:a", "1", "7", "15", "BIT"), Is.EqualTo(":7\r\n"));
        Assert.That(Do("BITPOS", "bp:a", "0", "0", "7", "BIT"), Is.EqualTo(":-1\r\n"));
        Do("SET", "bp:ones", "\u00ff\u00ff");
        Assert.That(Do("BITPOS", "bp:ones", "0"), Is.EqualTo(":16\r\n"), "no end: the string is padded with zeros");
        Assert.That(Do("BITPOS", "bp:ones", "0", "0", "-1"), Is.EqualTo(":-1\r\n"), "an explicit end: not padded");
        Assert.That(Do("BITPOS", "bp:missing", "0"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("BITPOS", "bp:missing", "1"), Is.EqualTo(":-1\r\n"));
        Assert.That(Do("BITPOS", "bp:a", "2"), Is.EqualTo("-ERR The bit argument must be 1 or 0.\r\n"));
        Assert.That(Do("BITPOS", "bp:a", "1", "0", "1", "BITS"), Is.EqualTo("-ERR syntax error\r\n"));
    }

    [Test]
    public void BitOpCombinesAndDeletesOnEmptyResult()
    {
        Do("SET", "bo:a", "\u00f0\u00f0");
        Do("SET", "bo:b", "\u00ff");
        Assert.That(Do("BITOP", "AND", "bo:r", "bo:a", "bo:b"), Is.EqualTo(":2\r\n"));
        Assert.That(Do("GET", "bo:r"), Is.EqualTo("$2\r\n\u00f0\0\r\n"));
        Assert.That(Do("BITOP", "or", "bo:r", "bo:a", "bo:b"), Is.EqualTo(":2\r\n"));
        Assert.That(Do("GET", "bo:r"), Is.EqualTo("$2\r\n\u00ff\u00f0\r\n"));
        Assert.That(Do("BITOP", "XOR", "bo:r", "bo:a", "bo:b", "bo:missing"), Is.EqualTo(":2\r\n"));
        Assert.That(Do("GET", "bo:r"), Is.EqualTo("$2\r\n\u000f\u00f0\r\n"));
        Assert.That(Do("BITOP", "NOT", "bo:r", "bo:b"), Is.EqualTo(":1\r\n"));
        Assert.That(Do("GET", "bo:r"), Is.EqualTo("$1\r\n\0\r\n"));
        Assert.That(Do("BITOP", "NOT", "bo:r", "bo:a", "bo:b"), Is.EqualTo("-ERR BITOP NOT must be called with a single source key.\r\n"));
        Assert.That(Do("BITOP", "NAND", "bo:r", "bo:a"), Is.EqualTo("-ERR syntax error\r\n"));
        Assert.That(Do("BITOP", "AND", "bo:r", "bo:missing"), Is.EqualTo(":0\r\n"));
        Assert.That(Do("EXISTS", "bo:r"), Is.EqualTo(":0\r\n"), "an empty result deletes the destination");
    }

    [Test]
    public void StackExchangeRedisStringApi()
    {
        using var mux = StackExchangeClient.Connect(Server.Port);
        var db = mux.GetDatabase();
        Assert.That(db.StringIncrement("se:n"), Is.EqualTo(1));
        Assert.That(db.StringIncrement("se:n", 10), Is.EqualTo(11));
        Assert.That(db.StringDecrement("se:n", 2), Is.EqualTo(9));
        Assert.That(db.StringIncrement("se:f", 0.5), Is.EqualTo(0.5));
        Assert.That(db.StringIncrement("se:f", 0.25), Is.EqualTo(0.75));
        Assert.That(db.StringAppend("se:s", "abc"), Is.EqualTo(3));
        Assert.That(db.StringLength("se:s"), Is.EqualTo(3));
        Assert.That((string?)db.StringGetRange("se:s", 1, -1), Is.EqualTo("bc"));
        Assert.That((long)db.StringSetRange("se:s", 1, "XY"), Is.EqualTo(3));
        Assert.That((string?)db.StringGetSet("se:s", "new"), Is.EqualTo("aXY"));
        Assert.That(db.StringSet(new KeyValuePair<RedisKey, RedisValue>[] { new("se:m1", "1"), new("se:m2", "2") }), Is.True);
        var values = db.StringGet(new RedisKey[] { "se:m1", "se:m2", "se:none" });
        Assert.That(values.Select(v => (string?)v), Is.EqualTo(new[] { "1", "2", null }));
        Assert.That(db.StringSet(new KeyValuePair<RedisKey, RedisValue>[] { new("se:m1", "x"), new("se:m3", "3") }, When.NotExists), Is.False);
        Assert.That(db.StringSet("se:ttl", "v", TimeSpan.FromSeconds(100)), Is.True);
        Assert.That(db.KeyTimeToLive("se:ttl"), Is.GreaterThan(TimeSpan.FromSeconds(98)));
        Assert.That(db.StringSetBit("se:b", 3, true), Is.False);
        Assert.That(db.StringGetBit("se:b", 3), Is.True);
        Assert.That(db.StringBitCount("se:b"), Is.EqualTo(1));
        Assert.That(db.StringBitPosition("se:b", true), Is.EqualTo(3));
        Assert.That(db.StringBitOperation(Bitwise.Not, "se:bn", "se:b"), Is.EqualTo(1));
        Assert.That(db.StringBitCount("se:bn"), Is.EqualTo(7));
    }
}
