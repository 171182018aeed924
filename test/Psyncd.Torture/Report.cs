using System.Text;

namespace Psyncd.Torture;

/// <summary>What a run counted: faults, resyncs served by psyncd and redis-server nodes, and failures.</summary>
public sealed class Report
{
    private sealed class FaultRow
    {
        public int Cycles;
        public int Failed;
        public SyncCounts ByPsyncd;
        public SyncCounts ByRedis;
    }

    private readonly SortedDictionary<string, FaultRow> _faults = new(StringComparer.Ordinal);
    private readonly Dictionary<NodeKind, SyncCounts> _byKind = new() { [NodeKind.Psyncd] = default, [NodeKind.Redis] = default };
    private readonly List<string> _failures = new();

    public int CyclesRun { get; set; }

    /// <summary>Cycles left out because their round had failed (the next round starts at its fixed cycle).</summary>
    public int CyclesSkipped { get; set; }

    public int Rounds { get; set; }

    public int Divergences { get; private set; }

    public int ConvergenceFailures { get; private set; }

    public int Errors { get; private set; }

    public long Commands { get; set; }

    public bool Failed => _failures.Count > 0;

    /// <summary>Counts a converged, equal cycle under its faults' label, with the resyncs each kind of node served in it.</summary>
    public void Cycle(string label, SyncCounts byPsyncd, SyncCounts byRedis)
    {
        var row = Row(label);
        row.Cycles++;
        row.ByPsyncd += byPsyncd;
        row.ByRedis += byRedis;
    }

    /// <summary>Counts a cycle that diverged, did not converge or could not inject its fault.</summary>
    public void FailedCycle(string label)
    {
        var row = Row(label);
        row.Cycles++;
        row.Failed++;
    }

    private FaultRow Row(string label)
    {
        if (!_faults.TryGetValue(label, out var row))
            _faults[label] = row = new FaultRow();
        return row;
    }

    /// <summary>Adds a node's resyncs over a whole round.</summary>
    public void NodeTotals(NodeKind kind, SyncCounts counts) => _byKind[kind] += counts;

    public void Divergence(string text)
    {
        Divergences++;
        _failures.Add("DIVERGENCE " + text);
    }

    public void NoConvergence(string text)
    {
        ConvergenceFailures++;
        _failures.Add("NO CONVERGENCE " + text);
    }

    public void Error(string text)
    {
        Errors++;
        _failures.Add("ERROR " + text);
    }

    public string Summary(TortureOptions options, TimeSpan elapsed, string runDir, bool runDirKept, string? interruptedBy = null)
    {
        var sb = new StringBuilder();
        sb.AppendLine();
        sb.AppendLine("== psyncd torture summary ==");
        sb.AppendLine("seed " + options.Seed + ", " + CyclesRun + " cycles in " + Rounds + " rounds"
            + (CyclesSkipped > 0 ? " (" + CyclesSkipped + " more skipped after failures in their round)" : "") + ", mix " + options.Mix.ToString().ToLowerInvariant()
            + ", " + Commands + " write commands, " + elapsed.TotalSeconds.ToString("F0") + " s");
        sb.AppendLine();
        sb.AppendLine("faults: cycles, cycles failed, and the resyncs served in the cycles that passed (full / partial / partial refused):");
        sb.AppendLine(string.Format("  {0,-40} {1,6} {2,6}   {3,-16} {4,-16}", "fault", "cycles", "failed", "by psyncd", "by redis-server"));
        foreach (var (label, row) in _faults)
            sb.AppendLine(string.Format("  {0,-40} {1,6} {2,6}   {3,-16} {4,-16}", label, row.Cycles, row.Failed, Triple(row.ByPsyncd), Triple(row.ByRedis)));
        sb.AppendLine();
        var total = _byKind[NodeKind.Psyncd] + _byKind[NodeKind.Redis];
        sb.AppendLine("resyncs served, summed over nodes (INFO stats sync_full / sync_partial_ok / sync_partial_err):");
        sb.AppendLine("  psyncd nodes:       " + _byKind[NodeKind.Psyncd]);
        sb.AppendLine("  redis-server nodes: " + _byKind[NodeKind.Redis]);
        sb.AppendLine("  total:              " + total);
        sb.AppendLine();
        sb.AppendLine("divergences: " + Divergences + ", convergence failures: " + ConvergenceFailures + ", harness errors: " + Errors);
        foreach (var failure in _failures)
            sb.AppendLine("  " + failure.Replace("\n", "\n    "));
        if (runDirKept)
            sb.AppendLine("run directory (node files and logs): " + runDir);
        if (interruptedBy is not null)
            sb.AppendLine("torture: INTERRUPTED by " + interruptedBy + " (seed " + options.Seed + "), servers killed");
        else if (Failed)
            sb.AppendLine("torture: FAIL (seed " + options.Seed + ")");
        else
            sb.AppendLine("torture: OK, no divergence in " + CyclesRun + " cycles (seed " + options.Seed + ")");
        return sb.ToString();
    }

    private static string Triple(SyncCounts c) => c.Full + " / " + c.PartialOk + " / " + c.PartialErr;
}
