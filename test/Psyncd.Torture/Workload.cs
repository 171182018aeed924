using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Psyncd.Tests.Support;

namespace Psyncd.Torture;

/// <summary>
/// The writes of one phase of a cycle, all sent to the current master: two writers drawing commands of
/// every family over all 16 databases (MULTI/EXEC, expiries, SELECT inside transactions included), and a
/// blocking pair (a client in BLPOP/BRPOPLPUSH/BLMOVE, another pushing to the lists it waits on). Errors
/// and dropped connections are expected while faults run: a writer counts them, reconnects and goes on.
/// </summary>
public sealed class Workload
{
    private readonly int _port;
    private readonly int _seed;
    private readonly int _rate;
    private readonly List<Thread> _threads = new();
    private volatile bool _stop;
    private long _commands;
    private long _errors;
    private long _reconnects;

    public Workload(int masterPort, int seed, int rate)
    {
        _port = masterPort;
        _seed = seed;
        _rate = rate;
    }

    public long Commands => Interlocked.Read(ref _commands);

    public long Errors => Interlocked.Read(ref _errors);

    public long Reconnects => Interlocked.Read(ref _reconnects);

    public void Start()
    {
        _threads.Add(new Thread(() => Run(_seed * 4 + 0, _rate, Writes.Next)));
        _threads.Add(new Thread(() => Run(_seed * 4 + 1, _rate, Writes.Next)));
        _threads.Add(new Thread(() => Run(_seed * 4 + 2, int.MaxValue, Writes.Blocking)));
        _threads.Add(new Thread(() => Run(_seed * 4 + 3, Math.Max(1, _rate / 5), Writes.Push)));
        foreach (var thread in _threads)
        {
            thread.IsBackground = true;
            thread.Start();
        }
    }

    /// <summary>Stops every client and waits for them (a blocked pop returns within its 1 s timeout).</summary>
    public void Stop()
    {
        _stop = true;
        foreach (var thread in _threads)
            thread.Join(TimeSpan.FromSeconds(30));
        _threads.Clear();
    }

    private void Run(int seed, int rate, Func<Random, Connection, List<string[]>> next)
    {
        var connection = new Connection();
        var random = new Random(seed);
        var watch = Stopwatch.StartNew();
        RawClient? client = null;
        long sent = 0;
        while (!_stop)
        {
            // Paced to the rate, so the writers leave the two cores to the servers.
            double ahead = sent * 1000.0 / rate - watch.Elapsed.TotalMilliseconds;
            if (ahead >= 1)
                Thread.Sleep((int)ahead);
            var commands = next(random, connection);
            try
            {
                client ??= new RawClient(_port, TimeSpan.FromSeconds(15));
                foreach (var command in commands)
                    client.Send(command);
                foreach (var _ in commands)
                {
                    if (client.ReadValue() is RespError)
                        Interlocked.Increment(ref _errors);
                }
                sent += commands.Count;
                Interlocked.Add(ref _commands, commands.Count);
            }
            catch (Exception e) when (e is IOException or SocketException or InvalidDataException or ObjectDisposedException)
            {
                // The master was killed, stopped past the timeout or cut: connect again.
                client?.Dispose();
                client = null;
                connection.Db = -1;
                Interlocked.Increment(ref _reconnects);
                Thread.Sleep(50);
            }
        }
        client?.Dispose();
    }
}

/// <summary>What a writer knows of its connection: the database it selected (-1: unknown, SELECT again).</summary>
public sealed class Connection
{
    public int Db { get; set; } = -1;
}

/// <summary>The commands writers draw. Keys are named by type (s: strings, n: counters, l: lists, h: hashes, S: sets, z: sorted sets, p: HyperLogLogs, t: short-lived) so most commands hit a key of their own type.</summary>
public static class Writes
{
    private static readonly string[] s_words = { "a", "b", "c", "d", "e", "f", "10", "-3", "x y", "\u00e9\u00ff\u0001", "" };

    /// <summary>
    /// A writer's next commands. It stays in a database for a while (so the replication stream often
    /// goes on without a SELECT, as a real client's does) and moves to another one now and then.
    /// </summary>
    public static List<string[]> Next(Random r, Connection connection)
    {
        var commands = new List<string[]>();
        if (connection.Db < 0 || r.Next(8) == 0)
        {
            connection.Db = r.Next(16);
            commands.Add(new[] { "SELECT", connection.Db.ToString() });
        }
        int roll = r.Next(100);
        if (roll < 8)
        {
            // A transaction, sometimes switching databases inside it (the connection stays in the last one).
            commands.Add(new[] { "MULTI" });
            int n = 2 + r.Next(4);
            for (int i = 0; i < n; i++)
            {
                if (r.Next(4) == 0)
                {
                    connection.Db = -1;
                    commands.Add(new[] { "SELECT", r.Next(16).ToString() });
                }
                commands.Add(One(r));
            }
            commands.Add(new[] { "EXEC" });
        }
        else if (roll < 9)
        {
            // Rarely, a database starts over (bounds the data, and FLUSHDB replicates as such).
            commands.Add(r.Next(10) == 0 ? new[] { "FLUSHDB" } : new[] { "DEL", Key(r, "l"), Key(r, "h"), Key(r, "S"), Key(r, "z") });
        }
        else
        {
            commands.Add(One(r));
        }
        return commands;
    }

    /// <summary>A client blocked on lists another client pushes to (db 0 or 1, where <see cref="Push"/> writes).</summary>
    public static List<string[]> Blocking(Random r, Connection connection)
    {
        string a = "bl:" + r.Next(3), b = "bl:" + r.Next(3);
        string[] pop = r.Next(3) switch
        {
            0 => new[] { "BLPOP", a, b, "1" },
            1 => new[] { "BRPOPLPUSH", a, b, "1" },
            _ => new[] { "BLMOVE", a, b, Side(r), Side(r), "1" },
        };
        return new List<string[]> { new[] { "SELECT", r.Next(2).ToString() }, pop };
    }

    public static List<string[]> Push(Random r, Connection connection) => new()
    {
        new[] { "SELECT", r.Next(2).ToString() },
        new[] { r.Next(2) == 0 ? "LPUSH" : "RPUSH", "bl:" + r.Next(3), Word(r) },
    };

    private static string Key(Random r, string type) => type + ":" + r.Next(8);

    private static string Word(Random r) => r.Next(4) == 0 ? "v" + r.Next(1000) : s_words[r.Next(s_words.Length)];

    private static string Side(Random r) => r.Next(2) == 0 ? "LEFT" : "RIGHT";

    private static string Num(Random r, int min, int max) => r.Next(min, max).ToString(CultureInfo.InvariantCulture);

    /// <summary>A long time to live (the key outlives the cycle and its TTL is compared), or a short one (it expires during the run, on the master's clock).</summary>
    private static string[] Ttl(Random r) => r.Next(3) == 0 ? new[] { "PX", Num(r, 100, 1500) } : new[] { "EX", Num(r, 10000, 20000) };

    private static string[] One(Random r)
    {
        string s = Key(r, "s"), n = Key(r, "n"), l = Key(r, "l"), h = Key(r, "h"), set = Key(r, "S"), z = Key(r, "z"), p = Key(r, "p");
        string[] anyKey = { s, n, l, h, set, z, p };
        string k = anyKey[r.Next(anyKey.Length)];
        return r.Next(60) switch
        {
            0 => new[] { "SET", s, Word(r) },
            1 => new[] { "SET", s, Word(r) }.Concat(Ttl(r)).ToArray(),
            2 => new[] { "SET", "t:" + r.Next(8), Word(r), "PX", Num(r, 50, 1200) },
            3 => new[] { "SETEX", s, Num(r, 10000, 20000), Word(r) },
            4 => new[] { "SETNX", s, Word(r) },
            5 => new[] { "GETSET", s, Word(r) },
            6 => new[] { "MSET", s, Word(r), Key(r, "s"), Word(r) },
            7 => new[] { "APPEND", s, Word(r) },
            8 => new[] { "SETRANGE", s, Num(r, 0, 20), Word(r) },
            9 => new[] { "SETBIT", s, Num(r, 0, 64), Num(r, 0, 2) },
            10 => new[] { "INCR", n },
            11 => new[] { "INCRBY", n, Num(r, -100, 100) },
            12 => new[] { "DECR", n },
            13 => new[] { "INCRBYFLOAT", n, r.Next(2) == 0 ? "0.1" : "-1.5" },
            14 => new[] { "DEL", k },
            15 => new[] { "EXPIRE", k, Num(r, 10000, 20000) },
            16 => new[] { "PEXPIRE", k, Num(r, 100, 1500) },
            17 => new[] { "PERSIST", k },
            18 => new[] { "RENAME", k, k[..2] + r.Next(8) },
            19 => new[] { "MOVE", k, Num(r, 0, 16) },
            20 => new[] { "LPUSH", l, Word(r), Word(r) },
            21 => new[] { "RPUSH", l, Word(r) },
            22 => new[] { "LPOP", l },
            23 => new[] { "RPOP", l },
            24 => new[] { "LSET", l, Num(r, -3, 5), Word(r) },
            25 => new[] { "LINSERT", l, r.Next(2) == 0 ? "BEFORE" : "AFTER", Word(r), Word(r) },
            26 => new[] { "LTRIM", l, "0", Num(r, 5, 30) },
            27 => new[] { "LREM", l, Num(r, -2, 3), Word(r) },
            28 => new[] { "RPOPLPUSH", l, Key(r, "l") },
            29 => new[] { "LMOVE", l, Key(r, "l"), Side(r), Side(r) },
            30 => new[] { "HSET", h, Word(r), Word(r), Word(r), Word(r) },
            31 => new[] { "HDEL", h, Word(r) },
            32 => new[] { "HINCRBY", h, "cnt", Num(r, -5, 10) },
            33 => new[] { "HINCRBYFLOAT", h, "flt", r.Next(2) == 0 ? "0.5" : "0.1" },
            34 => new[] { "HSETNX", h, Word(r), Word(r) },
            35 => new[] { "SADD", set, Word(r), Word(r), Word(r) },
            36 => new[] { "SREM", set, Word(r) },
            37 => new[] { "SPOP", set },
            38 => new[] { "SPOP", set, Num(r, 1, 4) },
            39 => new[] { "SMOVE", set, Key(r, "S"), Word(r) },
            40 => new[] { "SUNIONSTORE", set, Key(r, "S"), Key(r, "S") },
            41 => new[] { "SINTERSTORE", set, Key(r, "S"), Key(r, "S") },
            42 => new[] { "ZADD", z, (r.Next(-20, 20) / 2.0).ToString(CultureInfo.InvariantCulture), Word(r) },
            43 => new[] { "ZINCRBY", z, r.Next(2) == 0 ? "1.5" : "-0.25", Word(r) },
            44 => new[] { "ZREM", z, Word(r) },
            45 => new[] { "ZPOPMIN", z },
            46 => new[] { "ZREMRANGEBYRANK", z, "0", "0" },
            47 => new[] { "ZUNIONSTORE", z, "2", Key(r, "z"), Key(r, "z") },
            48 => new[] { "PFADD", p, Word(r), Word(r), "e" + r.Next(100000) },
            49 => new[] { "PFMERGE", p, Key(r, "p") },
            50 => new[] { "SRANDMEMBER", set },
            51 => new[] { "PSETEX", "t:" + r.Next(8), Num(r, 50, 1200), Word(r) },
            52 => new[] { "ZADD", z, "NX", Num(r, 0, 9), Word(r) },
            53 => new[] { "LPUSHX", l, Word(r) },
            54 => new[] { "EXPIREAT", k, (DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 50000).ToString(CultureInfo.InvariantCulture) },
            55 => new[] { "HMSET", h, "m", Word(r) },
            56 => new[] { "SET", s, Word(r), "KEEPTTL" },
            57 => new[] { "DECRBY", n, Num(r, 1, 50) },
            58 => new[] { "LPUSH", "t:" + r.Next(8), Word(r) },
            _ => new[] { "PEXPIRE", "t:" + r.Next(8), Num(r, 50, 1000) },
        };
    }
}
