namespace Psyncd.Tests.Support;

/// <summary>
/// External programs the tests use (redis-server, redis-cli, redis-benchmark, redis-check-rdb). When one
/// is missing the test is ignored on a developer's machine but fails in CI (CI=true), where `.ci/run`
/// installs them: a test that needs a real Redis must never pass by being skipped there.
/// </summary>
public static class Tools
{
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The full path of <paramref name="program"/> on PATH; fails or ignores the test when absent.</summary>
    public static string Require(string program)
    {
        var path = Find(program);
        if (path is not null)
            return path;
        string message = program + " is not installed (scripts/test installs it: apt-get install -y redis-server redis-tools redis-sentinel nutcracker)";
        if (IsCi)
            Assert.Fail(message);
        Assert.Ignore(message);
        return null!;
    }

    public static string? Find(string program)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            if (dir.Length == 0)
                continue;
            var candidate = Path.Combine(dir, program);
            if (File.Exists(candidate))
                return candidate;
        }
        return null;
    }
}
