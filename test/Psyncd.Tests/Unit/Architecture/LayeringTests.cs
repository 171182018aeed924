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
        // scripts/depgraph holds the order of the folders and runs scripts/depgraph.py --check with it.
        var start = new ProcessStartInfo(Tools.Require("bash"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = PsyncdBuild.RepoRoot,
        };
        start.ArgumentList.Add(Path.Combine("scripts", "depgraph"));
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.That(process.WaitForExit(60_000), Is.True, "depgraph.py finished within a minute");
        Assert.That(process.ExitCode, Is.EqualTo(0),
            "an upward reference, a folder cycle or a namespace that is not its folder:\n" + stdout.Result + stderr.Result);
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
