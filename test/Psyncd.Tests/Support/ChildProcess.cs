using System.Diagnostics;

namespace Psyncd.Tests.Support;

/// <summary>A program a test runs to its end (a script, a Redis tool, the torture harness), bounded in time.</summary>
public static class ChildProcess
{
    /// <summary>
    /// Runs <paramref name="program"/> and returns its exit code and its output (stdout, then stderr). One that
    /// outlives <paramref name="timeout"/> is killed with the processes it started, and the test fails.
    /// </summary>
    public static (int ExitCode, string Output) Run(string program, IEnumerable<string> args, TimeSpan timeout, string? workingDirectory = null)
    {
        var start = new ProcessStartInfo(program) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        if (workingDirectory is not null)
            start.WorkingDirectory = workingDirectory;
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        // Both streams are drained while the child runs: a child blocked on a full pipe would never exit.
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        string command = Path.GetFileName(program) + " " + string.Join(' ', args);
        if (!process.WaitForExit(timeout))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail(command + " did not finish within " + timeout.TotalSeconds + " s:\n" + stdout.Result + stderr.Result);
        }
        process.WaitForExit(); // the timed wait may return before the redirected streams are complete
        return (process.ExitCode, stdout.Result + stderr.Result);
    }
}
