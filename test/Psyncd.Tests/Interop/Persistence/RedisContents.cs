using System.Text;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Persistence;

/// <summary>Filling a real redis-server with a varied dataset (read back with <see cref="DatasetText.Read(RawClient, int)"/>).</summary>
internal static class RedisContents
{
    /// <summary>Fills a real redis-server with every type in small and large encodings, expiries, several databases.</summary>
    public static void Fill(RawClient redis, int seed)
    {
        var random = new Random(seed);
        foreach (int db in new[] { 0, 1, 5, 15 })
        {
            Ok(redis.Call("SELECT", db.ToString()));
            string p = "d" + db + ":";
            Ok(redis.Call("SET", p + "int", "12345"));
            Ok(redis.Call("SET", p + "negint", "-2147483648"));
            Ok(redis.Call("SET", p + "bigint", "92233720368547758"));
            Ok(redis.Call("SET", p + "empty", ""));
            Ok(redis.Call("SET", p + "text", "hello world"));
            Ok(redis.Call("SET", p + "compressible", string.Concat(Enumerable.Repeat("abcabcabc-", 300))));
            Ok(redis.Call("SET", p + "binary", RandomText(random, 3000, 256)));
            Ok(redis.Call("SET", p + "ttl", "v", "PX", "7200000"));
            Ok(redis.Call("SET", p + "ttl-sec", "w", "EX", "86400"));

            redis.Call("RPUSH", p + "list:small", "a", "b", "3", "-4", "");
            var big = new List<string> { "RPUSH", p + "list:big" };
            for (int i = 0; i < 3000; i++)
                big.Add(i % 5 == 0 ? i.ToString() : i % 7 == 0 ? RandomText(random, 200, 26) : "element-" + i);
            redis.Call(big.ToArray());
            redis.Call("RPUSH", p + "list:hugeelem", new string('x', 10000), "small", RandomText(random, 20000, 256));

            redis.Call("SADD", p + "set:ints", "1", "2", "3", "-100", "70000", "5000000000");
            var intset = new List<string> { "SADD", p + "set:manyints" };
            for (int i = 0; i < 600; i++)
                intset.Add((i * 7919).ToString());
            redis.Call(intset.ToArray());
            redis.Call("SADD", p + "set:strings", "apple", "banana", "12", RandomText(random, 100, 26));
            var bigSet = new List<string> { "SADD", p + "set:big" };
            for (int i = 0; i < 1000; i++)
                bigSet.Add("m" + i);
            redis.Call(bigSet.ToArray());

            redis.Call("HSET", p + "hash:small", "f1", "v1", "f2", "2", "f3", "");
            var bigHash = new List<string> { "HSET", p + "hash:big" };
            for (int i = 0; i < 700; i++)
            {
                bigHash.Add("field" + i);
                bigHash.Add(i % 2 == 0 ? i.ToString() : RandomText(random, 30, 26));
            }
            redis.Call(bigHash.ToArray());
            redis.Call("HSET", p + "hash:longvalue", "f", new string('v', 100), "g", "1");

            redis.Call("ZADD", p + "zset:small", "1", "a", "2.5", "b", "-3", "c", "inf", "d", "-inf", "e", "0", "f");
            var bigZset = new List<string> { "ZADD", p + "zset:big" };
            for (int i = 0; i < 300; i++)
            {
                bigZset.Add((random.NextDouble() * 1000 - 500).ToString("R", System.Globalization.CultureInfo.InvariantCulture));
                bigZset.Add("member" + i);
            }
            redis.Call(bigZset.ToArray());
            redis.Call("ZADD", p + "zset:longmember", "1.5", new string('m', 80), "2", "short");
            redis.Call("PEXPIRE", p + "zset:small", "5000000");
            redis.Call("PEXPIRE", p + "hash:big", "6000000");
            redis.Call("PEXPIRE", p + "list:small", "7000000");
        }
        Ok(redis.Call("SELECT", "0"));
    }

    private static string RandomText(Random random, int length, int alphabet)
    {
        var chars = new char[length];
        for (int i = 0; i < length; i++)
            chars[i] = alphabet == 26 ? (char)('a' + random.Next(26)) : (char)random.Next(256);
        return new string(chars);
    }

    private static void Ok(object? reply) => Assert.That(reply, Is.EqualTo("OK"));

}
