using System.Diagnostics;
using System.Text;
using Psyncd.Tests.Support;

namespace Psyncd.Torture;

/// <summary>
/// Runs the cycles of a torture run. A round draws a topology (master with two replicas, or a chain of
/// three) and a server for each position, starts them empty, and runs cycles on it: writes to the
/// master, one or two faults during the writes, then a bounded wait for every link up and equal offsets,
/// then a key-by-key comparison of every node's dataset with the master's. Everything drawn (topology,
/// servers, faults, their targets and timings, the writers' commands) comes from the seed and the cycle
/// number, so a run replays with the same --seed (the timing of the processes themselves does not).
/// </summary>
public sealed class Runner
{
    private readonly TortureOptions _options;
    private readonly string _runDir;
    private readonly StreamWriter _events;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly Report _report = new();
    private readonly List<Node> _nodes = new();
    private Node _root = null!;
    private Workload? _workload;
    private int _cycle;

    /// <summary>What the current cycle's faults did, for the log.</summary>
    private readonly List<string> _notes = new();
    private int _round;
    private string _roundDir = "";
    private bool _roundFailed;
    private bool _anyFailed;
    private bool _chain;

    public Runner(TortureOptions options)
    {
        _options = options;
        _runDir = Path.GetFullPath(options.RunDir ?? Path.Combine(Path.GetTempPath(), "psyncd-torture",
            options.Seed + "-" + DateTime.UtcNow.ToString("yyyyMMdd-HHmmss")));
        Directory.CreateDirectory(_runDir);
        _events = new StreamWriter(Path.Combine(_runDir, "events.log")) { AutoFlush = true };
    }

    /// <summary>Runs every cycle; returns the exit code (0: no divergence, every cycle converged).</summary>
    public int Run()
    {
        Log("psyncd torture: seed " + _options.Seed + ", " + _options.Cycles + " cycles, mix " + _options.Mix.ToString().ToLowerInvariant()
            + ", repl-timeout " + _options.ReplTimeout + " s; run directory " + _runDir);
        try
        {
            // Cycle c always belongs to round (c-1)/K+1 and is its ((c-1)%K+1)th cycle, whatever happened
            // before, so that a replay from the round's first cycle (--from-cycle) meets the same plan.
            int k = _options.CyclesPerRound;
            for (_cycle = RoundStart(_options.FromCycle); _cycle <= _options.Cycles; _cycle++)
            {
                int inRound = (_cycle - 1) % k;
                if (inRound == 0)
                    StartRound((_cycle - 1) / k + 1);
                else if (_nodes.Count == 0)
                {
                    // The round failed: its remaining cycles are skipped, the next round starts fresh.
                    _report.CyclesSkipped++;
                    continue;
                }
                bool ok = RunCycle(inRound);
                _report.CyclesRun++;
                if (!ok && _options.StopOnFailure)
                    break;
                if (!ok || inRound == k - 1 || _cycle == _options.Cycles)
                    EndRound();
            }
        }
        finally
        {
            _workload?.Stop();
            if (_nodes.Count > 0)
                EndRound();
            Node.KillAll();
        }
        bool keep = _anyFailed || _options.Keep;
        Console.WriteLine(_report.Summary(_options, _clock.Elapsed, _runDir, keep));
        _events.Write(_report.Summary(_options, _clock.Elapsed, _runDir, keep));
        _events.Dispose();
        if (!keep)
            TryDelete(_runDir);
        return _report.Failed ? 1 : 0;
    }

    /// <summary>The summary so far, for a run stopped by a signal (its servers are already killed).</summary>
    public string Interrupted(string signal)
    {
        string summary = _report.Summary(_options, _clock.Elapsed, _runDir, runDirKept: true, interruptedBy: signal + " in cycle " + _cycle);
        _events.Write(summary);
        return summary;
    }

    private Random RoundRandom() => new(unchecked(_options.Seed * 7919 + _round * 104729 + 17));

    private Random CycleRandom() => new(unchecked(_options.Seed * 1000003 + _cycle * 31 + 5));

    private int RoundStart(int cycle) => (Math.Max(1, cycle) - 1) / _options.CyclesPerRound * _options.CyclesPerRound + 1;

    /// <summary>The command line that replays the current cycle: its round from the start, up to the cycle.</summary>
    private string Replay()
    {
        var args = new List<string> { "scripts/torture", "--seed", _options.Seed.ToString() };
        int from = RoundStart(_cycle);
        if (from > 1)
            args.AddRange(new[] { "--from-cycle", from.ToString() });
        args.AddRange(new[] { "--cycles", _cycle.ToString() });
        if (_options.CyclesPerRound != new TortureOptions().CyclesPerRound)
            args.AddRange(new[] { "--cycles-per-round", _options.CyclesPerRound.ToString() });
        if (_options.Mix != NodeMix.Mixed)
            args.AddRange(new[] { "--mix", _options.Mix.ToString().ToLowerInvariant() });
        if (_options.Faults.Count > 0)
            args.AddRange(new[] { "--faults", string.Join(",", _options.Faults) });
        return string.Join(' ', args);
    }

    private void StartRound(int round)
    {
        _round = round;
        _report.Rounds++;
        _roundFailed = false;
        var random = RoundRandom();
        _chain = random.Next(2) == 0;
        var kinds = new NodeKind[3];
        for (int i = 0; i < kinds.Length; i++)
        {
            kinds[i] = _options.Mix switch
            {
                NodeMix.Psyncd => NodeKind.Psyncd,
                NodeMix.Redis => NodeKind.Redis,
                _ => random.Next(2) == 0 ? NodeKind.Psyncd : NodeKind.Redis,
            };
        }
        if (_options.Mix == NodeMix.Mixed && !kinds.Contains(NodeKind.Psyncd))
            kinds[random.Next(kinds.Length)] = NodeKind.Psyncd;
        _roundDir = Path.Combine(_runDir, "round-" + _round.ToString("D3"));
        for (int i = 0; i < kinds.Length; i++)
            _nodes.Add(new Node("n" + i, kinds[i], Path.Combine(_roundDir, "n" + i), diskless: random.Next(3) == 0, _options));
        foreach (var node in _nodes)
            node.Start();
        _root = _nodes[0];
        Preload(random);
        Log("round " + _round + ": " + (_chain ? "chain " : "master with two replicas ") + Shape(planned: true)
            + "; diskless sync on " + string.Join(",", _nodes.Where(n => n.Diskless).Select(n => n.Name).DefaultIfEmpty("none")));
    }

    /// <summary>Some larger values (random letters, which RDB compression leaves long), so that a snapshot's payload spans many reads of the proxy.</summary>
    private void Preload(Random random)
    {
        using var client = _root.Connect();
        for (int i = 0; i < 64; i++)
        {
            var value = new char[2048 + random.Next(8192)];
            for (int j = 0; j < value.Length; j++)
                value[j] = (char)('a' + random.Next(26));
            client.Send("SELECT", (i % 16).ToString());
            client.Send("SET", "big:" + i, new string(value));
        }
        for (int i = 0; i < 128; i++)
            client.ReadValue();
    }

    /// <summary>The topology, e.g. "n0(psyncd) <- n1(redis) <- n2(psyncd)".</summary>
    private string Shape(bool planned = false)
    {
        if (planned)
        {
            return _chain
                ? _nodes[0].Label + " <- " + _nodes[1].Label + " <- " + _nodes[2].Label
                : _nodes[0].Label + " <- " + _nodes[1].Label + ", " + _nodes[0].Label + " <- " + _nodes[2].Label;
        }
        var links = _nodes.Where(n => n.Master is not null).Select(n => n.Master!.Name + "<-" + n.Name);
        return "master " + _root.Name + (links.Any() ? ", " + string.Join(", ", links) : "");
    }

    private void EndRound()
    {
        foreach (var node in _nodes)
        {
            var counts = node.TryTotalCounts();
            if (counts is { } c)
                _report.NodeTotals(node.Kind, c);
            Log("  " + node.Label + " served " + (counts?.ToString() ?? "(counters unreadable)") + " in round " + _round);
        }
        foreach (var node in _nodes)
            node.Shutdown();
        _nodes.Clear();
        if (_roundFailed)
            _anyFailed = true;
        else if (!_options.Keep)
            TryDelete(_roundDir);
    }

    private string[] PlanFaults(Random random, int inRound)
    {
        if (inRound == 0)
            return new[] { FaultNames.Attach };
        var enabled = (_options.Faults.Count > 0 ? _options.Faults : FaultNames.Default.ToList()).Where(f => f != FaultNames.Attach).ToList();
        if (enabled.Count == 0)
            return new[] { FaultNames.CutStream };
        // The deck position of this cycle: the drawn cycles before it (a round's first cycle draws none).
        int drawn = (_cycle - 1) / _options.CyclesPerRound * (_options.CyclesPerRound - 1) + inRound - 1;
        var faults = new List<string> { FromDeck(enabled, drawn) };
        var light = FaultNames.Light.Where(enabled.Contains).Where(f => f != faults[0]).ToList();
        if (light.Count > 0 && random.Next(4) == 0)
            faults.Add(light[random.Next(light.Count)]);
        return faults.ToArray();
    }

    /// <summary>
    /// The faults come from a deck: every enabled fault once, in an order drawn from the seed, then the
    /// deck again in another order; so a short run meets each fault before any comes twice.
    /// </summary>
    private string FromDeck(List<string> enabled, int drawn)
    {
        int pass = drawn / enabled.Count;
        var deck = enabled.OrderBy(f => f, StringComparer.Ordinal).ToList();
        var shuffle = new Random(unchecked(_options.Seed * 613 + pass * 7 + 3));
        for (int i = deck.Count - 1; i > 0; i--)
        {
            int j = shuffle.Next(i + 1);
            (deck[i], deck[j]) = (deck[j], deck[i]);
        }
        return deck[drawn % enabled.Count];
    }

    private bool RunCycle(int inRound)
    {
        var random = CycleRandom();
        var faults = PlanFaults(random, inRound);
        string label = string.Join("+", faults);
        var before = _nodes.ToDictionary(n => n, n => n.TryTotalCounts());
        var cycleClock = Stopwatch.StartNew();
        var notes = _notes;
        notes.Clear();
        try
        {
            StartWrites(random);
            Pause(random, 0.2, 0.5);
            foreach (var fault in faults)
                notes.Add(Inject(fault, random));
            Pause(random, 0.3, 0.6);
        }
        catch (Exception e)
        {
            StopWrites();
            Heal();
            return Fail("error", label, "fault " + label + " failed: " + e.GetType().Name + ": " + e.Message);
        }
        StopWrites();
        Heal();
        var convergeClock = Stopwatch.StartNew();
        if (!WaitConverged(TimeSpan.FromSeconds(_options.ConvergeTimeout), out string state))
            return Fail("no convergence", label, "not converged within " + _options.ConvergeTimeout + " s:\n" + state);
        double converged = convergeClock.Elapsed.TotalSeconds;
        if (!Compare(out string difference))
            return Fail("divergence", label, difference);
        var byKind = new Dictionary<NodeKind, SyncCounts> { [NodeKind.Psyncd] = default, [NodeKind.Redis] = default };
        var perNode = new List<string>();
        foreach (var node in _nodes)
        {
            if (before.GetValueOrDefault(node) is { } b && node.TryTotalCounts() is { } a)
            {
                var delta = a - b;
                byKind[node.Kind] += delta;
                if (delta != default)
                    perNode.Add(node.Name + " " + delta.Full + "f/" + delta.PartialOk + "p" + (delta.PartialErr > 0 ? "/" + delta.PartialErr + "e" : ""));
            }
        }
        _report.Cycle(label, byKind[NodeKind.Psyncd], byKind[NodeKind.Redis]);
        Log(string.Format("cycle {0}/{1} {2,-36} {3,5:F1} s, converged in {4:F1} s; served {5}; {6}; ok",
            _cycle, _options.Cycles, label, cycleClock.Elapsed.TotalSeconds, converged,
            perNode.Count == 0 ? "no resync" : string.Join(", ", perNode), Shape()));
        if (_options.Verbose)
            foreach (var note in notes.Where(n => n.Length > 0))
                Log("    " + note);
        return true;
    }

    private bool Fail(string kind, string label, string text)
    {
        _roundFailed = true;
        string where = "cycle " + _cycle + " (round " + _round + ", " + Shape() + ", fault " + label + ")";
        string replay = "replay: " + Replay();
        string steps = string.Join("\n", _notes.Where(n => n.Length > 0).Select(n => "  step: " + n));
        string full = where + ": " + text + (steps.Length > 0 ? "\n" + steps : "") + "\n" + replay + "\nlogs: " + _roundDir;
        _report.FailedCycle(label);
        switch (kind)
        {
            case "divergence": _report.Divergence(full); break;
            case "no convergence": _report.NoConvergence(full); break;
            default: _report.Error(full); break;
        }
        Log("cycle " + _cycle + "/" + _options.Cycles + " " + label + ": " + kind.ToUpperInvariant() + "\n  " + text.Replace("\n", "\n  ")
            + (steps.Length > 0 ? "\n" + steps : "") + "\n  " + replay);
        var dump = new StringBuilder(full + "\n\n");
        foreach (var node in _nodes)
        {
            node.FlushLog();
            dump.Append("== ").Append(node.Label).Append(" pid ").Append(node.Pid).Append(" port ").Append(node.Port)
                .Append(node.Link is null ? "" : " link " + node.Link.Port).Append('\n');
            var info = node.TryInfo();
            dump.Append(info is null ? "(no answer)\n" : string.Join("\n", info.Select(kv => kv.Key + ":" + kv.Value)) + "\n");
        }
        File.WriteAllText(Path.Combine(_roundDir, "failure-cycle-" + _cycle + ".txt"), dump.ToString());
        return false;
    }

    private void StartWrites(Random random)
    {
        _workload = new Workload(_root.Port, random.Next(), _options.Rate);
        _workload.Start();
    }

    private void StopWrites()
    {
        if (_workload is null)
            return;
        _workload.Stop();
        _report.Commands += _workload.Commands;
        _workload = null;
    }

    /// <summary>Sleeps a drawn share of the cycle's write time.</summary>
    private void Pause(Random random, double min, double max) =>
        Thread.Sleep(TimeSpan.FromSeconds(_options.WriteSeconds * (min + random.NextDouble() * (max - min))));

    /// <summary>Ends what a fault left held: stopped processes continue, stalled links flow, watches are off.</summary>
    private void Heal()
    {
        foreach (var node in _nodes)
        {
            node.Resume();
            if (node.Link is { } link)
            {
                link.InspectFromTarget = null;
                link.Stalled = false;
            }
        }
    }

    private Node PickReplica(Random random)
    {
        var replicas = _nodes.Where(n => n.Master is not null).ToList();
        return replicas[random.Next(replicas.Count)];
    }

    private Node PickAny(Random random) => _nodes[random.Next(_nodes.Count)];

    /// <summary>The node and every node below it.</summary>
    private HashSet<Node> Subtree(Node top)
    {
        var set = new HashSet<Node> { top };
        bool grew = true;
        while (grew)
        {
            grew = false;
            foreach (var node in _nodes)
                if (node.Master is not null && set.Contains(node.Master) && set.Add(node))
                    grew = true;
        }
        return set;
    }

    private static TimeSpan Ms(Random random, int min, int max) => TimeSpan.FromMilliseconds(random.Next(min, max));

    private TimeSpan LongerThanTimeout(Random random) => TimeSpan.FromSeconds(_options.ReplTimeout + 1) + Ms(random, 0, 1500);

    /// <summary>Injects one fault; returns a note for the verbose log.</summary>
    private string Inject(string fault, Random random)
    {
        switch (fault)
        {
            case FaultNames.Attach:
            {
                // In node order, so a chain's bottom attaches to a replica that is itself syncing or just synced.
                for (int i = 1; i < _nodes.Count; i++)
                {
                    _nodes[i].ReplicateFrom(_chain ? _nodes[i - 1] : _nodes[0]);
                    Thread.Sleep(Ms(random, 100, 700));
                }
                return "attached " + Shape();
            }
            case FaultNames.KillReplica:
            {
                var replica = PickReplica(random);
                bool save = random.Next(2) == 0;
                if (save)
                    Save(replica);
                Thread.Sleep(Ms(random, 0, 300));
                replica.Kill();
                Thread.Sleep(Ms(random, 0, 1000));
                replica.Start();
                return "killed and restarted " + replica.Label + (save ? " after SAVE" : "");
            }
            case FaultNames.KillMaster:
            {
                var master = _root;
                // Half the time nothing follows the SAVE (writes, PINGs and active expiry paused, replicas
                // caught up): the replicas hold exactly the dump's data and continue partially with the
                // restarted master, as with redis-server 7.0; the keys that expire meanwhile are dropped at its
                // load and reach them as DELs. Otherwise the writes after the SAVE die with the master, and
                // they sync fully.
                bool quiet = random.Next(2) == 0;
                if (quiet)
                {
                    StopWrites();
                    Call(master, "CONFIG", "SET", "repl-ping-slave-period", "3600");
                    Call(master, "DEBUG", "SET-ACTIVE-EXPIRE", "0");
                    if (!WaitConverged(TimeSpan.FromSeconds(_options.ConvergeTimeout), out string state))
                        throw new InvalidOperationException("offsets never equal before the master's SAVE:\n" + state);
                }
                Save(master);
                Thread.Sleep(Ms(random, 0, 500));
                master.Kill();
                Thread.Sleep(Ms(random, 0, 1000));
                // Restarted with its command line: PINGs and active expiry are back to the harness's.
                master.Start();
                if (quiet)
                    StartWrites(random);
                return (quiet ? "quiet: nothing written after the SAVE; " : "") + "saved, killed and restarted the master " + master.Label;
            }
            case FaultNames.KillMasterAof or FaultNames.KillReplicaAof:
            {
                var node = fault == FaultNames.KillMasterAof ? _root : PickReplica(random);
                bool enabled = EnableAppendOnly(node);
                Thread.Sleep(Ms(random, 100, 800));
                node.Kill();
                Thread.Sleep(Ms(random, 0, 1000));
                node.Start();
                return (enabled ? "CONFIG SET appendonly yes on " + node.Label + ", first base written; " : "")
                    + "killed " + node.Label + " under writes and restarted it on its append-only log";
            }
            case FaultNames.CutStream:
            {
                var replica = PickReplica(random);
                replica.Link!.DropAll();
                return "cut " + replica.Master!.Name + "<-" + replica.Name;
            }
            case FaultNames.StallLink:
            {
                var replica = PickReplica(random);
                var time = LongerThanTimeout(random);
                replica.Link!.Stalled = true;
                Thread.Sleep(time);
                replica.Link.Stalled = false;
                return "stalled " + replica.Master!.Name + "<-" + replica.Name + " for " + time.TotalSeconds.ToString("F1") + " s";
            }
            case FaultNames.StopShort or FaultNames.StopLong:
            {
                var node = PickAny(random);
                var time = fault == FaultNames.StopLong
                    ? LongerThanTimeout(random)
                    : Ms(random, 200, Math.Max(300, _options.ReplTimeout * 1000 / 2));
                node.Pause();
                Thread.Sleep(time);
                node.Resume();
                return "SIGSTOP " + node.Label + " for " + time.TotalSeconds.ToString("F1") + " s";
            }
            case FaultNames.ClientKillMaster:
            {
                var replica = PickReplica(random);
                Call(replica, "CLIENT", "KILL", "TYPE", "master");
                return "CLIENT KILL TYPE master on " + replica.Label;
            }
            case FaultNames.Promote:
                return Promote(random);
            case FaultNames.SelfCheck:
            {
                var replica = PickReplica(random);
                Call(replica, "CONFIG", "SET", "replica-read-only", "no");
                Call(replica, "SET", "self-check:" + _cycle, "written on a replica");
                Call(replica, "CONFIG", "SET", "replica-read-only", "yes");
                return "wrote self-check:" + _cycle + " on " + replica.Label + " (must be reported)";
            }
            default:
                return Reattach(fault, random);
        }
    }

    /// <summary>A failover done right: writes paused, offsets equal, then the replica promoted and the others re-pointed.</summary>
    private string Promote(Random random)
    {
        var replica = PickReplica(random);
        var old = _root;
        StopWrites();
        // The old master's PINGs stop first: one sent between the equal offsets and the promotion would put
        // the others a PING ahead of the new master, which then rightly refuses their partial resyncs.
        Call(old, "CONFIG", "SET", "repl-ping-slave-period", "3600");
        if (!WaitConverged(TimeSpan.FromSeconds(_options.ConvergeTimeout), out string state))
            throw new InvalidOperationException("offsets never equal before promotion:\n" + state);
        replica.ReplicateFrom(null);
        foreach (var node in _nodes)
            if (node != replica && (node == old || node.Master == old))
                node.ReplicateFrom(replica);
        Call(old, "CONFIG", "SET", "repl-ping-slave-period", "1");
        _root = replica;
        StartWrites(random);
        return "promoted " + replica.Label + "; " + Shape();
    }

    /// <summary>
    /// A replica leaves its master (REPLICAOF NO ONE, a write of its own) and attaches to another node not
    /// below it: a full sync under writes, from a replica when that node is one. The other faults of this
    /// family act partway through that sync's payload.
    /// </summary>
    private string Reattach(string fault, Random random)
    {
        var replica = PickReplica(random);
        var below = Subtree(replica);
        var targets = _nodes.Where(n => !below.Contains(n)).ToList();
        var target = targets[random.Next(targets.Count)];
        double fraction = 0.05 + random.NextDouble() * 0.9;
        int disklessBytes = random.Next(1000, 300_000);
        int waitBeforeRestart = random.Next(0, 500);
        FullSyncWatch? watch = fault == FaultNames.Reattach ? null
            : new FullSyncWatch(fraction, disklessBytes, cut: fault == FaultNames.CutMidRdb);
        replica.ReplicateFrom(null);
        using (var client = replica.Connect())
        {
            client.Call("SELECT", random.Next(16).ToString());
            client.Call("SET", "reattach:marker", _cycle.ToString());
        }
        replica.ReplicateFrom(target, watch is null ? null : watch.Inspect);
        if (watch is null)
            return replica.Label + " reattached to " + target.Label;
        watch.Proxy = replica.Link;
        string what = replica.Label + " reattached to " + target.Label;
        if (!watch.Fired.Wait(TimeSpan.FromSeconds(30)))
        {
            replica.Link!.InspectFromTarget = null;
            return what + "; " + fault + " did not fire: " + watch.Description;
        }
        if (fault == FaultNames.CutMidRdb)
            return what + "; cut mid-payload (" + watch.Description + ")";
        // The link is stalled partway through the payload: one end dies there.
        var victim = fault == FaultNames.KillReplicaMidSync ? replica : target;
        victim.Kill();
        replica.Link!.Stalled = false;
        replica.Link.DropAll();
        Thread.Sleep(waitBeforeRestart);
        victim.Start();
        return what + "; killed " + victim.Label + " mid-payload (" + watch.Description + ") and restarted it";
    }

    /// <summary>SAVE, waiting out a BGSAVE in progress (a full sync the node serves) which makes SAVE refuse.</summary>
    private static void Save(Node node)
    {
        using var client = node.Connect();
        object? reply = null;
        bool saved = Eventually.Within(() =>
        {
            reply = client.Call("SAVE");
            return reply is not RespError error || !error.Message.Contains("in progress", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        if (!saved || reply is RespError)
            throw new InvalidOperationException(node.Label + " answered SAVE with " + reply);
    }

    /// <summary>
    /// Turns the log on (once per node and round) and waits for its first base: a kill before it is written would
    /// restart the node on the log of an earlier moment. Returns false when it was on already.
    /// </summary>
    private static bool EnableAppendOnly(Node node)
    {
        if (node.AppendOnly)
            return false;
        Call(node, "CONFIG", "SET", "appendonly", "yes");
        node.AppendOnly = true;
        bool done = Eventually.Within(() =>
        {
            var info = node.TryInfo("persistence");
            return info is not null && info.GetValueOrDefault("aof_rewrite_in_progress") == "0"
                && info.GetValueOrDefault("aof_rewrite_scheduled") == "0" && info.GetValueOrDefault("aof_rewrites") is { } n && n != "0";
        }, TimeSpan.FromSeconds(60), TimeSpan.FromMilliseconds(100));
        if (!done)
            throw new InvalidOperationException(node.Label + " never finished the first rewrite of its append-only log");
        return true;
    }

    private static void Call(Node node, params string[] args)
    {
        using var client = node.Connect();
        if (client.Call(args) is RespError error)
            throw new InvalidOperationException(node.Label + " answered " + string.Join(' ', args) + " with -" + error.Message);
    }

    /// <summary>Every link up, on the link the harness set, and every node's offset equal to the master's.</summary>
    private bool WaitConverged(TimeSpan timeout, out string state)
    {
        string last = "";
        bool ok = Eventually.Within(() => Converged(out last), timeout, TimeSpan.FromMilliseconds(100));
        state = last;
        return ok;
    }

    private bool Converged(out string state)
    {
        var lines = new List<string>();
        bool ok = true;
        var rootInfo = _root.TryInfo();
        string offset = rootInfo?.GetValueOrDefault("master_repl_offset") ?? "?";
        if (rootInfo is null || rootInfo.GetValueOrDefault("role") != "master")
            ok = false;
        lines.Add(_root.Label + " master: " + (rootInfo is null ? "no answer" : "role " + rootInfo.GetValueOrDefault("role") + ", offset " + offset));
        foreach (var node in _nodes.Where(n => n.Master is not null))
        {
            var info = node.TryInfo();
            if (info is null)
            {
                lines.Add(node.Label + ": no answer");
                ok = false;
                continue;
            }
            string link = info.GetValueOrDefault("master_link_status") ?? "?";
            string port = info.GetValueOrDefault("master_port") ?? "?";
            string nodeOffset = info.GetValueOrDefault("master_repl_offset") ?? "?";
            bool up = link == "up" && port == node.Link!.Port.ToString() && nodeOffset == offset;
            ok &= up;
            lines.Add(node.Label + " <- " + node.Master!.Label + ": role " + info.GetValueOrDefault("role") + ", link " + link
                + ", master_port " + port + " (proxy " + node.Link!.Port + "), offset " + nodeOffset
                + (info.TryGetValue("master_sync_in_progress", out var sync) && sync == "1" ? ", sync in progress" : ""));
        }
        state = string.Join("\n", lines);
        return ok;
    }

    /// <summary>
    /// Compares every node's dataset with the master's. Keys with a short time to live may expire while the
    /// nodes are read one after the other (the master deletes them and replicates the DEL), so a difference
    /// counts only when it persists after the nodes converge again, with the short-lived keys gone.
    /// </summary>
    private bool Compare(out string difference)
    {
        difference = "";
        for (int attempt = 0; attempt < 4; attempt++)
        {
            if (attempt > 0)
            {
                Thread.Sleep(TimeSpan.FromMilliseconds(750));
                WaitConverged(TimeSpan.FromSeconds(_options.ConvergeTimeout), out _);
            }
            // HyperLogLogs compared byte for byte: psyncd keeps them as redis-server does (sparse or dense, cached count).
            var texts = _nodes.ToDictionary(n => n, n => DatasetText.Describe(n.Port));
            string expected = texts[_root];
            var differing = _nodes.Where(n => texts[n] != expected).ToList();
            if (differing.Count == 0)
                return true;
            var sb = new StringBuilder();
            foreach (var node in differing)
            {
                var mine = texts[node].Split('\n').ToHashSet();
                var theirs = expected.Split('\n').ToHashSet();
                var missing = expected.Split('\n').Where(l => !mine.Contains(l)).Take(5);
                var extra = texts[node].Split('\n').Where(l => !theirs.Contains(l)).Take(5);
                sb.Append(node.Label).Append(" differs from the master ").Append(_root.Label).Append('\n');
                foreach (var line in missing)
                    sb.Append("  master has: ").Append(Shorten(line)).Append('\n');
                foreach (var line in extra)
                    sb.Append("  ").Append(node.Name).Append(" has:   ").Append(Shorten(line)).Append('\n');
            }
            difference = sb.ToString().TrimEnd();
        }
        return false;
    }

    private static string Shorten(string line) => line.Length <= 160 ? line : line[..160] + "... (" + line.Length + " chars)";

    private void Log(string text)
    {
        string line = "[" + _clock.Elapsed.ToString(@"mm\:ss") + "] " + text;
        Console.WriteLine(line);
        _events.WriteLine(line);
    }

    private static void TryDelete(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // A file still open; left for the temp directory's cleaner.
        }
    }
}
