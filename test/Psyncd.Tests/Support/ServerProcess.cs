using System.Diagnostics;
using System.Net.Sockets;
using System.Text;

namespace Psyncd.Tests.Support;

/// <summary>
/// A server process started by a test on 127.0.0.1 and a free port, in a directory of its own: psyncd
/// (<see cref="StartPsyncd"/>) or a real redis-server (<see cref="StartRedis"/>). Stopped by its PID only.
/// </summary>
public sealed partial class ServerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ServerProcess(Process process, int port, string dir, string name)
    {
        _process = process;
        Port = port;
        Dir = dir;
        Name = name;
    }

    public int Port { get; }

    /// <summary>The server's working directory (its <c>dir</c>), deleted when disposed.</summary>
    public string Dir { get; }

    public string Name { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>What the process wrote to stdout and stderr so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
                return _output.ToString();
        }
    }

    /// <summary>Starts psyncd with redis-server's command line; <paramref name="args"/> are added after the defaults.</summary>
    public static ServerProcess StartPsyncd(params string[] args) => StartOnFreePort((dir, port) => StartPsyncdIn(dir, port, args));

    /// <summary>Starts psyncd in a directory the caller owns (kept when the process is disposed, e.g. to restart on its files).</summary>
    public static ServerProcess StartPsyncdIn(string dir, int port, params string[] args)
    {
        var start = PsyncdBuild.NewStart();
        AddDefaults(start, port, dir, args);
        return Launch(start, port, dir, "psyncd", waitReady: true);
    }

    /// <summary>
    /// Starts psyncd the way a non-interactive shell starts a background job: through bash with SIGINT
    /// ignored, which the child inherits (bash then executes psyncd in its place, so the PID is psyncd's).
    /// </summary>
    public static ServerProcess StartPsyncdWithSigIntIgnored(params string[] args) => StartOnFreePort((dir, port) =>
    {
        var start = new ProcessStartInfo("bash") { UseShellExecute = false };
        foreach (var arg in new[] { "-c", "trap '' INT; exec \"$0\" \"$@\"" })
            start.ArgumentList.Add(arg);
        var server = PsyncdBuild.NewStart();
        start.ArgumentList.Add(server.FileName);
        foreach (var arg in server.ArgumentList)
            start.ArgumentList.Add(arg);
        start.Environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1";
        AddDefaults(start, port, dir, args);
        return Launch(start, port, dir, "psyncd", waitReady: true);
    });

    /// <summary>True when the directory was made for this process and goes with it.</summary>
    private bool _ownsDir;

    /// <summary>Starts the installed redis-server (fails in CI when it is missing).</summary>
    public static ServerProcess StartRedis(params string[] args) => StartOnFreePort((dir, port) => StartRedisIn(dir, port, args));

    /// <summary>
    /// Starts a server on a port <see cref="FreePort"/> chose, in a directory of its own. The port is free when
    /// chosen but not held: another process on this machine (tests of another run) may bind it before the child
    /// does. The child then fails to bind and exits, and the start is tried again on another port (five times).
    /// </summary>
    private static ServerProcess StartOnFreePort(Func<string, int, ServerProcess> start)
    {
        for (int attempt = 1; ; attempt++)
        {
            string dir = NewDir();
            try
            {
                var server = start(dir, FreePort.Next());
                server._ownsDir = true;
                return server;
            }
            catch (PortTakenException) when (attempt < 5)
            {
                TryDeleteDir(dir);
            }
        }
    }

    private static void TryDeleteDir(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException)
        {
            // Cleaned with the temp directory later.
        }
    }

    /// <summary>Starts redis-server in a directory the caller owns (kept when the process is disposed).</summary>
    public static ServerProcess StartRedisIn(string dir, int port, params string[] args)
    {
        var start = new ProcessStartInfo(Tools.Require("redis-server")) { UseShellExecute = false };
        AddDefaults(start, port, dir, args);
        return Launch(start, port, dir, "redis-server", waitReady: true);
    }

    /// <summary>Starts psyncd without waiting for it to serve (for tests of startup failures).</summary>
    public static ServerProcess LaunchPsyncdRaw(string dir, params string[] args)
    {
        var start = PsyncdBuild.NewStart();
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        return Launch(start, 0, dir, "psyncd", waitReady: false);
    }

    /// <summary>Starts redis-server with exactly <paramref name="args"/>, without waiting for it to be ready (e.g. one that must fail).</summary>
    public static ServerProcess LaunchRedisRaw(string dir, params string[] args)
    {
        var start = new ProcessStartInfo(Tools.Require("redis-server")) { UseShellExecute = false };
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        return Launch(start, 0, dir, "redis-server", waitReady: false);
    }

    public static string NewDir()
    {
        var dir = Path.Combine(Path.GetTempPath(), "psyncd-tests", Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static void AddDefaults(ProcessStartInfo start, int port, string dir, string[] args)
    {
        string[] defaults = { "--port", port.ToString(), "--bind", "127.0.0.1", "--save", "", "--dir", dir };
        foreach (var arg in defaults)
            start.ArgumentList.Add(arg);
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
    }

    private static ServerProcess Launch(ProcessStartInfo start, int port, string dir, string name, bool waitReady)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = dir;
        var process = new Process { StartInfo = start };
        var server = new ServerProcess(process, port, dir, name);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (waitReady)
        {
            try
            {
                server.WaitReady(TimeSpan.FromSeconds(60));
            }
            catch
            {
                // Nobody else holds the process yet: it must not outlive the failed start.
                server.Kill();
                throw;
            }
        }
        return server;
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_output)
            _output.AppendLine(line);
    }

    /// <summary>
    /// Waits until this process answers PING with PONG (or a LOADING error is over). A PONG from another
    /// process that holds the port does not count: INFO's process_id must be this child's.
    /// </summary>
    public void WaitReady(TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(); // the output is complete once the streams are drained
                if (Output.Contains("Address already in use", StringComparison.Ordinal))
                    throw new PortTakenException(Name + " could not bind port " + Port + ":\n" + Output);
                Assert.Fail(Name + " exited with code " + _process.ExitCode + " before serving:\n" + Output);
            }
            try
            {
                using var client = new RawClient(Port);
                // A server with requirepass answers NOAUTH: it is serving all the same (and cannot be asked who it is).
                string reply = client.Command("PING");
                if (reply.StartsWith("-NOAUTH", StringComparison.Ordinal))
                    return;
                if (reply == "+PONG\r\n" && IsThisProcess(client.Command("INFO", "server")))
                    return;
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                // Not listening yet.
            }
            Thread.Sleep(50);
        }
        Assert.Fail(Name + " did not answer PING within " + timeout.TotalSeconds + " s:\n" + Output);
    }

    private bool IsThisProcess(string info)
    {
        var match = System.Text.RegularExpressions.Regex.Match(info, @"process_id:(\d+)");
        return match.Success && int.Parse(match.Groups[1].Value) == _process.Id;
    }

    /// <summary>A raw RESP client to this server.</summary>
    public RawClient Connect() => new(Port);

    /// <summary>SIGTERM, then waits for the exit; SIGKILL if it takes longer than <paramref name="timeout"/>.</summary>
    public int Stop(TimeSpan? timeout = null)
    {
        if (_process.HasExited)
            return _process.ExitCode;
        Posix.Signal(_process.Id, Posix.SIGTERM);
        if (!_process.WaitForExit(timeout ?? TimeSpan.FromSeconds(15)))
        {
            Posix.Signal(_process.Id, Posix.SIGKILL);
            _process.WaitForExit();
        }
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: the process dies at once, without saving.</summary>
    public void Kill()
    {
        if (_process.HasExited)
            return;
        Posix.Signal(_process.Id, Posix.SIGKILL);
        _process.WaitForExit();
    }

    /// <summary>Waits for the process to exit, then for the last of its output to be read (<see cref="Output"/> is complete then).</summary>
    public bool WaitForExit(TimeSpan timeout)
    {
        if (!_process.WaitForExit(timeout))
            return false;
        // The timed overload may return before the redirected streams are drained; this one waits for them.
        _process.WaitForExit();
        return true;
    }

    public void Dispose()
    {
        try
        {
            Kill();
        }
        finally
        {
            _process.Dispose();
            try
            {
                if (_ownsDir)
                    Directory.Delete(Dir, recursive: true);
            }
            catch (IOException)
            {
                // A file still open by a child; the temp directory is cleaned later.
            }
        }
    }
}

/// <summary>Where the built psyncd host is.</summary>
public static class PsyncdBuild
{
    /// <summary>The repository's root (the directory with Psyncd.sln).</summary>
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>
    /// The environment variable naming the psyncd executable the tests run: scripts/test sets it to the
    /// ahead-of-time compiled binary that scripts/native publishes (the build that ships). Without it the tests
    /// run <see cref="HostDll"/> under <c>dotnet</c>.
    /// </summary>
    public const string ServerVariable = "PSYNCD_SERVER";

    /// <summary>The native psyncd executable named by <see cref="ServerVariable"/>, or null to run <see cref="HostDll"/>.</summary>
    public static string? NativeServer
    {
        get
        {
            string? path = Environment.GetEnvironmentVariable(ServerVariable);
            if (string.IsNullOrEmpty(path))
                return null;
            if (!File.Exists(path))
                Assert.Fail(ServerVariable + " names " + path + ", which does not exist");
            return path;
        }
    }

    /// <summary>A start of psyncd without its arguments: the native binary, or <c>dotnet psyncd.dll</c>.</summary>
    public static ProcessStartInfo NewStart()
    {
        string? native = NativeServer;
        var start = new ProcessStartInfo(native ?? "dotnet") { UseShellExecute = false };
        if (native is null)
            start.ArgumentList.Add(HostDll);
        start.Environment["DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS"] = "1";
        return start;
    }

    /// <summary>The psyncd.dll built alongside the tests, in the same configuration.</summary>
    public static string HostDll
    {
        get
        {
#if DEBUG
            const string configuration = "Debug";
#else
            const string configuration = "Release";
#endif
            var path = Path.Combine(RepoRoot, "src", "Psyncd.Host", "bin", configuration, "net10.0", "psyncd.dll");
            if (!File.Exists(path))
                Assert.Fail("psyncd is not built at " + path);
            return path;
        }
    }

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Psyncd.sln")))
            dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Psyncd.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A server could not start because another process held the port chosen for it.</summary>
public sealed class PortTakenException(string message) : Exception(message);
