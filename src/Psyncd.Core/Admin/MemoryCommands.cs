using System.Globalization;
using System.Text;
using Psyncd.Commands;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Replication;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.Admin;

/// <summary>
/// MEMORY USAGE / STATS / DOCTOR / MALLOC-STATS / PURGE / HELP, in redis-server 7.0's shapes. USAGE answers
/// what redis-server would take for the same data (<see cref="RedisMemoryModel"/>); STATS and DOCTOR
/// describe psyncd's own process (the managed heap is its allocator).
/// </summary>
internal sealed class MemoryCommands
{
    private readonly MemoryMonitor _memory;
    private readonly ClientRegistry _clients;
    private readonly ReplicationStream _stream;
    private readonly Keyspace _keyspace;
    private readonly long _startupBytes;

    public MemoryCommands(MemoryMonitor memory, ClientRegistry clients, ReplicationStream stream, Keyspace keyspace)
    {
        _memory = memory;
        _clients = clients;
        _stream = stream;
        _keyspace = keyspace;
        // Built with the server, before any client: what the empty server takes (Redis's startup.allocated).
        _startupBytes = memory.UsedMemory();
    }

    public void Register(CommandTable table)
    {
        table.Add("memory", -2, CommandFlags.ReadOnly, Memory);
        table.AddSubcommands("memory", ("doctor", 2), ("help", 2), ("malloc-stats", 2), ("purge", 2), ("stats", 2), ("usage", -3));
    }

    private void Memory(CommandContext ctx, in CommandArgs args)
    {
        var sub = args[1];
        if (Keyword.Is(sub, "USAGE"u8))
            Usage(ctx, args);
        else if (Keyword.Is(sub, "STATS"u8))
            Stats(ctx);
        else if (Keyword.Is(sub, "DOCTOR"u8))
            ctx.Reply.WriteVerbatim(Doctor());
        else if (Keyword.Is(sub, "MALLOC-STATS"u8))
            ctx.Reply.WriteVerbatim(MallocStats());
        else if (Keyword.Is(sub, "PURGE"u8))
        {
            MemoryMonitor.ReclaimNow();
            ctx.Reply.WriteOk();
        }
        else if (Keyword.Is(sub, "HELP"u8))
            HelpReply.Write(ctx.Reply, "MEMORY", s_help);
        else
            ctx.Reply.WriteError(ErrorReplies.UnknownSubcommand(sub, "MEMORY"));
    }

    private static readonly string[] s_help =
    {
        "DOCTOR",
        "    Explain in plain words how the server uses memory and what may be wrong.",
        "MALLOC-STATS",
        "    Report the memory manager's own statistics (here the .NET garbage collector's).",
        "PURGE",
        "    Ask the memory manager to give unused memory back to the system.",
        "STATS",
        "    Answer a breakdown of the server's memory use.",
        "USAGE <key> [SAMPLES <count>]",
        "    Estimate the bytes <key> and its value take. Collections are estimated from",
        "    <count> of their elements (5 when not given, 0 for all of them).",
    };

    /// <summary>MEMORY USAGE key [SAMPLES count]: null for a missing key.</summary>
    private void Usage(CommandContext ctx, in CommandArgs args)
    {
        long samples = 5;
        for (int i = 3; i < args.Count; i++)
        {
            if (Keyword.Is(args[i], "SAMPLES"u8) && i + 1 < args.Count)
            {
                if (!Numbers.TryParseInt64(args[++i], out samples))
                {
                    ctx.NotInteger();
                    return;
                }
                if (samples < 0)
                {
                    ctx.SyntaxError();
                    return;
                }
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        var db = ctx.Db;
        var key = args[2];
        if (!db.Exists(key))
        {
            ctx.Reply.WriteNullBulk();
            return;
        }
        var entry = db.Peek(key);
        ctx.Reply.WriteInteger(RedisMemoryModel.Usage(key, entry, CollectionHelpers.Limits(ctx), samples));
    }

    /// <summary>The figures of MEMORY STATS and DOCTOR, read once per request.</summary>
    private readonly record struct Figures(
        long Used, long Peak, long Startup, long Backlog, long ReplicaClients, long NormalClients, long Overhead, long Keys, long Rss, long Committed);

    private Figures Measure()
    {
        long used = _memory.SampleUsedMemory();
        long peak = Math.Max(_memory.UsedMemoryPeak, used);
        long backlog = _stream.Backlog?.Size ?? 0;
        long replicas = 0, normal = 0;
        foreach (var client in _clients.Clients.Values)
        {
            long bytes = client.QueryBufferBytes + client.Output.UnsentBytes;
            if (client.Has(ClientFlags.Replica))
                replicas += bytes;
            else
                normal += bytes;
        }
        long overhead = _startupBytes + backlog + replicas + normal;
        long keys = 0;
        for (int db = 0; db < _keyspace.DatabaseCount; db++)
        {
            overhead += HashtableOverhead(_keyspace.KeyCount(db)) + HashtableOverhead(_keyspace.ExpiresCount(db));
            keys += _keyspace.KeyCount(db);
        }
        var gc = GC.GetGCMemoryInfo();
        return new Figures(used, peak, _startupBytes, backlog, replicas, normal, overhead, keys, MemoryMonitor.ResidentSetBytes(), gc.TotalCommittedBytes);
    }

    /// <summary>What a Redis dict of <paramref name="count"/> entries costs beyond its keys and values (entries and buckets).</summary>
    private static long HashtableOverhead(long count)
        => count == 0 ? 0 : count * 24 + 8 * (long)System.Numerics.BitOperations.RoundUpToPowerOf2((ulong)count);

    /// <summary>MEMORY STATS: redis-server 7.0's fields, in its order, from psyncd's own figures.</summary>
    private void Stats(CommandContext ctx)
    {
        var f = Measure();
        var reply = ctx.Reply;
        int databases = 0;
        for (int db = 0; db < _keyspace.DatabaseCount; db++)
        {
            if (_keyspace.KeyCount(db) > 0 || _keyspace.ExpiresCount(db) > 0)
                databases++;
        }
        long netUsed = Math.Max(1, f.Used - f.Startup);
        long dataset = Math.Max(0, f.Used - f.Overhead);
        reply.WriteMapHeader(27 + databases);
        Pair(reply, "peak.allocated"u8, f.Peak);
        Pair(reply, "total.allocated"u8, f.Used);
        Pair(reply, "startup.allocated"u8, f.Startup);
        Pair(reply, "replication.backlog"u8, f.Backlog);
        Pair(reply, "clients.slaves"u8, f.ReplicaClients);
        Pair(reply, "clients.normal"u8, f.NormalClients);
        Pair(reply, "cluster.links"u8, 0);
        Pair(reply, "aof.buffer"u8, 0);
        Pair(reply, "lua.caches"u8, 0);
        Pair(reply, "functions.caches"u8, 0);
        for (int db = 0; db < _keyspace.DatabaseCount; db++)
        {
            long keys = _keyspace.KeyCount(db), expires = _keyspace.ExpiresCount(db);
            if (keys == 0 && expires == 0)
                continue;
            reply.WriteBulk("db." + db.ToString(CultureInfo.InvariantCulture));
            reply.WriteMapHeader(3);
            Pair(reply, "overhead.hashtable.main"u8, HashtableOverhead(keys));
            Pair(reply, "overhead.hashtable.expires"u8, HashtableOverhead(expires));
            Pair(reply, "overhead.hashtable.slot-to-keys"u8, 0);
        }
        Pair(reply, "overhead.total"u8, f.Overhead);
        Pair(reply, "keys.count"u8, f.Keys);
        Pair(reply, "keys.bytes-per-key"u8, f.Keys == 0 ? 0 : netUsed / f.Keys);
        Pair(reply, "dataset.bytes"u8, dataset);
        Ratio(reply, "dataset.percentage"u8, dataset * 100.0 / netUsed);
        Ratio(reply, "peak.percentage"u8, f.Used * 100.0 / Math.Max(1, f.Peak));
        // The managed heap is the allocator: what it holds, what it committed, and the process's resident set.
        Pair(reply, "allocator.allocated"u8, f.Used);
        Pair(reply, "allocator.active"u8, f.Committed);
        Pair(reply, "allocator.resident"u8, f.Rss);
        Ratio(reply, "allocator-fragmentation.ratio"u8, (double)f.Committed / Math.Max(1, f.Used));
        Pair(reply, "allocator-fragmentation.bytes"u8, f.Committed - f.Used);
        Ratio(reply, "allocator-rss.ratio"u8, (double)f.Rss / Math.Max(1, f.Committed));
        Pair(reply, "allocator-rss.bytes"u8, f.Rss - f.Committed);
        Ratio(reply, "rss-overhead.ratio"u8, 1);
        Pair(reply, "rss-overhead.bytes"u8, 0);
        Ratio(reply, "fragmentation"u8, (double)f.Rss / Math.Max(1, f.Used));
        Pair(reply, "fragmentation.bytes"u8, f.Rss - f.Used);
    }

    private static void Pair(ReplyWriter reply, ReadOnlySpan<byte> name, long value)
    {
        reply.WriteBulk(name);
        reply.WriteInteger(value);
    }

    /// <summary>A ratio as Redis writes it: a float widened to a double, printed with %.17g.</summary>
    private static void Ratio(ReplyWriter reply, ReadOnlySpan<byte> name, double value)
    {
        reply.WriteBulk(name);
        reply.WriteDouble(Encoding.ASCII.GetBytes(Numbers.FormatDouble((float)value)));
    }

    /// <summary>MEMORY DOCTOR's report, in psyncd's words.</summary>
    private string Doctor()
    {
        var f = Measure();
        if (f.Keys == 0 || f.Used - f.Startup < 1024 * 1024)
            return "This instance holds almost no data yet, so there is nothing to diagnose. Ask again once it has some work to do.\n";
        var findings = new List<string>();
        if (f.Peak > f.Used * 3 / 2)
            findings.Add("Memory use peaked at " + Human(f.Peak) + " and is now " + Human(f.Used)
                + ": most of what was freed since is kept by the process for reuse (MEMORY PURGE returns it to the system).");
        if (f.Rss > f.Used * 3 / 2 && f.Rss - f.Used > 10 * 1024 * 1024)
            findings.Add("The process holds " + Human(f.Rss) + " of RAM for " + Human(f.Used) + " of live data: the runtime and the keyspace's log "
                + "account for the difference; MEMORY PURGE may give some of it back.");
        if (f.NormalClients > 200 * 1024 * 1024 / 2)
            findings.Add("Clients hold " + Human(f.NormalClients) + " of unsent output or unparsed input: a client that pipelines without "
                + "reading is the usual cause (see CLIENT LIST's omem and qbuf, and client-output-buffer-limit).");
        if (f.ReplicaClients > 10 * 1024 * 1024)
            findings.Add("Replicas hold " + Human(f.ReplicaClients) + " of output: a replica is slower than the writes it receives.");
        if (findings.Count == 0)
            return "No memory problem found: " + Human(f.Used) + " in use for " + f.Keys.ToString(CultureInfo.InvariantCulture) + " keys, peak " + Human(f.Peak) + ".\n";
        var sb = new StringBuilder("Some things about memory deserve a look:\n\n");
        for (int i = 0; i < findings.Count; i++)
            sb.Append(i + 1).Append(". ").Append(findings[i]).Append('\n');
        return sb.ToString();
    }

    /// <summary>MEMORY MALLOC-STATS: the garbage collector's figures (psyncd has no malloc of its own).</summary>
    private static string MallocStats()
    {
        var gc = GC.GetGCMemoryInfo();
        var sb = new StringBuilder();
        sb.Append("psyncd allocates through the .NET garbage collector (").Append(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation").Append(" mode).\n");
        Line(sb, "heap_size_bytes", gc.HeapSizeBytes);
        Line(sb, "committed_bytes", gc.TotalCommittedBytes);
        Line(sb, "fragmented_bytes", gc.FragmentedBytes);
        Line(sb, "promoted_bytes", gc.PromotedBytes);
        Line(sb, "total_allocated_bytes", GC.GetTotalAllocatedBytes());
        Line(sb, "high_memory_load_threshold_bytes", gc.HighMemoryLoadThresholdBytes);
        Line(sb, "total_available_memory_bytes", gc.TotalAvailableMemoryBytes);
        for (int generation = 0; generation <= GC.MaxGeneration; generation++)
            Line(sb, "gen" + generation + "_collections", GC.CollectionCount(generation));
        var generations = gc.GenerationInfo;
        string[] names = { "gen0", "gen1", "gen2", "loh", "poh" };
        for (int i = 0; i < generations.Length && i < names.Length; i++)
            Line(sb, names[i] + "_size_after_bytes", generations[i].SizeAfterBytes);
        return sb.ToString();
    }

    private static void Line(StringBuilder sb, string name, long value)
        => sb.Append(name).Append(": ").Append(value.ToString(CultureInfo.InvariantCulture)).Append('\n');

    private static string Human(long bytes) => InfoCommand.HumanBytes(bytes);
}
