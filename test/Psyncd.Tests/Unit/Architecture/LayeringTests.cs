using System.Diagnostics;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Unit.Architecture;

/// <summary>
/// The layout of src/Psyncd.Core (docs/architecture.md): each folder is a namespace and names only types of
/// folders below it, the composition root stays small, and a long file says why it is long.
/// </summary>
public class LayeringTests
{
    private static string Core => Path.Combine(PsyncdBuild.RepoRoot, "src", "Psyncd.Core");

    [Test]
    public void NoTypeReferencesAFolderAboveIt()
    {
        Tools.Require("python3");
        // scripts/depgraph holds the order of the folders and runs scripts/depgraph.py --check with it. The bound is a
        // hang guard: about 4 s of CPU, 17 s at load average 30, and past 60 s once beside the whole suite at 50+.
        var (exit, output) = ChildProcess.Run(Tools.Require("bash"), [Path.Combine("scripts", "depgraph")], TimeSpan.FromSeconds(300), PsyncdBuild.RepoRoot);
        Assert.That(exit, Is.EqualTo(0), "an upward reference, a folder cycle or a namespace that is not its folder:\n" + output);
    }

    [Test]
    public void TheRootIsSmallAndLongFilesSayWhy()
    {
        int rootLines = File.ReadLines(Path.Combine(Core, "Server", "PsyncdServer.cs")).Count();
        Assert.That(rootLines, Is.LessThan(400), "PsyncdServer.cs builds, wires, starts and stops; nothing else");
        var unexplained = Directory.EnumerateFiles(Core, "*.cs", SearchOption.AllDirectories)
            .Where(path => !IsBuildOutput(path))
            .Where(path => File.ReadLines(path).Count() > 700)
            .Where(path => !File.ReadLines(path).Take(30).Any(line => line.Contains("Why this file is long", StringComparison.Ordinal)))
            .Select(path => Path.GetRelativePath(Core, path))
            .ToList();
        Assert.That(unexplained, Is.Empty, "files over 700 lines without \"Why this file is long\" in their first 30 lines");
    }

    private static bool IsBuildOutput(string path)
    {
        string relative = Path.GetRelativePath(Core, path);
        return relative.StartsWith("bin" + Path.DirectorySeparatorChar, StringComparison.Ordinal)
            || relative.StartsWith("obj" + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }
}
