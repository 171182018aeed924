using System.Diagnostics;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Torture;

/// <summary>
/// scripts/torture's harness (test/Psyncd.Torture), run as a process: it must report a divergence when
/// there is one (a write made on a replica behind its master's back), and pass a short run where there
/// is none (redis-server nodes only, so the result does not hang on psyncd's own replication).
/// </summary>
[TestFixture]
public sealed class TortureHarnessTests
{
    [Test]
    public void ReportsAWriteMadeOnAReplicaAsADivergenceWithTheSeedToReplayIt()
    {
        Tools.Require("redis-server");
        var (exit, output) = RunHarness("--seed", "11", "--cycles", "2", "--cycles-per-round", "2", "--mix", "redis", "--faults", "self-check");
        Assert.That(exit, Is.EqualTo(1), output);
        Assert.That(output, Does.Contain("DIVERGENCE"), output);
        Assert.That(output, Does.Contain("has:   0 string self-check:2 = written on a replica"), output);
        Assert.That(output, Does.Contain("replay: scripts/torture --seed 11 --cycles 2 --cycles-per-round 2 --mix redis --faults self-check"), output);
        Assert.That(output, Does.Contain("torture: FAIL (seed 11)"), output);
    }

    [Test]
    public void PassesARunWithoutDivergenceAndCountsItsResyncs()
    {
        Tools.Require("redis-server");
        var (exit, output) = RunHarness("--seed", "12", "--cycles", "2", "--cycles-per-round", "2", "--mix", "redis", "--faults", "cut-stream");
        Assert.That(exit, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("cycle 2/2 cut-stream"), output);
        Assert.That(output, Does.Match(@"redis-server nodes: full [1-9]\d*, partial [1-9]"), "the attach's full syncs and the cut's partial one are counted:\n" + output);
        Assert.That(output, Does.Contain("torture: OK, no divergence in 2 cycles (seed 12)"), output);
    }

    private static (int Exit, string Output) RunHarness(params string[] args)
    {
#if DEBUG
        const string configuration = "Debug";
#else
        const string configuration = "Release";
#endif
        string dll = Path.Combine(PsyncdBuild.RepoRoot, "test", "Psyncd.Torture", "bin", configuration, "net10.0", "psyncd-torture.dll");
        Assert.That(File.Exists(dll), "the harness is built at " + dll);
        string runDir = ServerProcess.NewDir();
        // A harness that hangs is killed with the servers it started (they are its children).
        var (exitCode, output) = ChildProcess.Run("dotnet", [dll, .. args, "--write-seconds", "1", "--run-dir", runDir], TimeSpan.FromSeconds(180));
        try
        {
            Directory.Delete(runDir, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
            // A run that passed deleted it itself.
        }
        return (exitCode, output);
    }
}
