using System.Diagnostics;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.InteropServices;
using CommandLine;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Network;
using Psyncd.Server;

namespace Psyncd.Host;

/// <summary>
/// The psyncd executable, with redis-server's command line:
/// <c>psyncd [config-file] [--directive value ...]</c>, <c>psyncd -v|--version</c>, <c>psyncd -h|--help</c>.
/// </summary>
public static class Program
{
    /// <summary>The flags CommandLineParser handles; everything else is configuration.</summary>
    private sealed class InfoFlags
    {
        [Option('v', "version", HelpText = "Print the version and exit.")]
        public bool Version { get; set; }

        [Option('h', "help", HelpText = "Print usage and exit.")]
        public bool Help { get; set; }
    }

    public static async Task<int> Main(string[] args)
    {
        RestartIfSigIntIgnored();
        if (args.Length > 0 && args[0] is "-v" or "--version" or "-h" or "--help")
            return PrintInfo(args[0]);
        // "--version" after directives checks them first: a script can ask whether this build knows a
        // directive (the Redis suite's runner does, for --enable-debug-command) without starting a server.
        bool versionOnly = args.Contains("--version");
        if (versionOnly)
            args = args.Where(a => a != "--version").ToArray();

        var options = new ServerOptions();
        try
        {
            var parser = new ConfigFileParser(options);
            int next = 0;
            if (args.Length > 0 && !args[0].StartsWith("--", StringComparison.Ordinal))
            {
                parser.LoadFile(args[0]);
                next = 1;
            }
            if (next < args.Length)
                parser.LoadText(ConfigFileParser.FromCommandLine(args[next..]));
        }
        catch (ConfigFileException e)
        {
            Console.Error.Write(e.Report);
            return 1;
        }
        catch (ConfigException e)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }

        if (versionOnly)
            return PrintInfo("--version");
        if (options.Daemonize)
        {
            if (Environment.GetEnvironmentVariable(DaemonChildMarker) is null)
                return Daemonize(args);
            Detach(options);
        }

        using var log = OpenLog(options);
        if (log is null)
            return 1;
        log.Role = 'C';
        log.Warning("oO0OoO0OoO0Oo psyncd is starting oO0OoO0OoO0Oo");
        log.Warning("psyncd version=" + ServerIdentity.Version + " (Redis " + ServerIdentity.RedisVersion + " compatible), bits=64, pid=" + Environment.ProcessId + ", just started");
        if (args.Length == 0)
            log.Warning("Warning: no config file specified, using the default config. In order to specify a config file use psyncd /path/to/redis.conf");
        else
            log.Warning("Configuration loaded");
        foreach (var ignored in options.IgnoredDirectives)
            log.Warning("Directive '" + ignored + "' is accepted for compatibility but has no effect in psyncd");
        log.Role = options.SlaveOf is null ? 'M' : 'S';

        if (options.PidFile.Length > 0)
        {
            try
            {
                File.WriteAllText(options.PidFile, Environment.ProcessId + "\n");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                log.Warning("Failed to write PID file: " + e.Message);
            }
        }

        var server = new PsyncdServer(options, log);
        // Signals are handled from before the listeners open, so a SIGTERM during startup still stops cleanly.
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            server.Loop.Run(() => server.Shutdown(save: null, force: false, "Received SIGTERM scheduling shutdown..."));
        });
        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            server.Loop.Run(() => server.Shutdown(save: null, force: false, "Received SIGINT scheduling shutdown..."));
        });

        try
        {
            await server.StartAsync().ConfigureAwait(false);
        }
        catch (ServerStartException e)
        {
            log.Warning(e.Message);
            log.Warning("Failed listening on port " + options.Port + " (TCP), aborting.");
            return 1;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            log.Warning("Fatal error at startup: " + e.Message);
            return 1;
        }

        int exitCode = await server.Stopped.ConfigureAwait(false);
        log.Warning("psyncd is now ready to exit, bye bye...");
        return exitCode;
    }

    // CommandLineParser finds the flags by reflection: keep InfoFlags' constructor and properties in the
    // native (ahead-of-time compiled) build, whose trimming would otherwise remove what nothing calls directly.
    [DynamicDependency(DynamicallyAccessedMemberTypes.PublicConstructors | DynamicallyAccessedMemberTypes.PublicProperties, typeof(InfoFlags))]
    private static int PrintInfo(string flag)
    {
        var result = new Parser(settings =>
        {
            settings.AutoHelp = false;
            settings.AutoVersion = false;
            settings.HelpWriter = null;
        }).ParseArguments<InfoFlags>(new[] { flag });
        bool version = result is Parsed<InfoFlags> parsed && parsed.Value.Version;
        if (version)
        {
            Console.WriteLine("psyncd v=" + ServerIdentity.Version + " redis_version=" + ServerIdentity.RedisVersion + " bits=64 runtime=" + RuntimeInformation.FrameworkDescription);
            return 0;
        }
        Console.Error.WriteLine(
            """
            Usage: psyncd [/path/to/redis.conf] [options]
                   psyncd - (read config from stdin)
                   psyncd -v or --version
                   psyncd -h or --help

            Any directive of redis.conf can be given as --directive value [value ...],
            after the config file if there is one; command-line directives win.

            Examples:
                   psyncd (run the server with the default configuration, port 6379)
                   psyncd /etc/redis/6379.conf
                   psyncd --port 7777
                   psyncd --port 7777 --slaveof 127.0.0.1 8888
                   psyncd /etc/myredis.conf --loglevel verbose --save ""
            """);
        return 1;
    }

    private static ServerLog? OpenLog(ServerOptions options)
    {
        try
        {
            return new ServerLog(options.LogFile, options.LogLevel);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            Console.Error.WriteLine("Can't open the log file: " + e.Message);
            return null;
        }
    }

    /// <summary>Set in the environment of the process <see cref="Daemonize"/> starts: it is the daemon itself.</summary>
    private const string DaemonChildMarker = "PSYNCD_DAEMON_CHILD";

    /// <summary>
    /// <c>daemonize yes</c>, as redis-server's fork: .NET cannot fork safely, so this process starts the same
    /// executable again with the same arguments and <see cref="DaemonChildMarker"/> set, its standard streams
    /// not connected to ours, and returns at once (the caller's <c>$(psyncd --daemonize yes)</c> returns).
    /// The new process detaches itself (<see cref="Detach"/>).
    /// </summary>
    private static int Daemonize(string[] args)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self)
        {
            // Pipes of our own rather than the caller's streams, closed when we exit; the daemon then moves
            // its standard streams to /dev/null.
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet")
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, typeof(Program).Assembly.GetName().Name + ".dll"));
        foreach (var arg in args)
            start.ArgumentList.Add(arg);
        start.Environment[DaemonChildMarker] = "1";
        try
        {
            using var child = Process.Start(start);
            if (child is null)
            {
                Console.Error.WriteLine("Could not start the daemon process");
                return 1;
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            Console.Error.WriteLine("Could not start the daemon process: " + e.Message);
            return 1;
        }
        return 0;
    }

    /// <summary>
    /// The daemon's side: a session of its own (no controlling terminal, not killed with the caller's
    /// process group), standard streams on /dev/null (the log goes to <c>logfile</c>, or nowhere), and a
    /// pid file even when none was configured, as redis-server does.
    /// </summary>
    private static void Detach(ServerOptions options)
    {
        Environment.SetEnvironmentVariable(DaemonChildMarker, null);
        _ = Posix.setsid();
        int devNull = Posix.open("/dev/null", Posix.O_RDWR);
        if (devNull >= 0)
        {
            for (int fd = 0; fd <= 2; fd++)
                _ = Posix.dup2(devNull, fd);
            if (devNull > 2)
                _ = Posix.close(devNull);
        }
        if (options.PidFile.Length == 0)
            options.PidFile = "/var/run/psyncd.pid";
    }

    /// <summary>
    /// A process started in the background by a non-interactive shell (<c>psyncd &amp;</c>, nohup, init
    /// scripts) inherits SIGINT ignored, and the .NET runtime, which records the disposition before Main,
    /// then never installs its handler: SIGINT would do nothing. redis-server installs its handler whatever
    /// it inherited, so SIGINT shuts it down cleanly. To behave the same, the process gives SIGINT its
    /// default disposition back and executes itself again (same PID, arguments and environment), so that
    /// the new runtime sees SIGINT as not ignored and the registration in Main takes effect.
    /// </summary>
    private static void RestartIfSigIntIgnored()
    {
        const string Guard = "PSYNCD_SIGINT_RESTORED";
        if (Environment.GetEnvironmentVariable(Guard) is not null || !SignalIgnored(Posix.SIGINT))
            return;
        string[] argv;
        try
        {
            // Each argument ends with a NUL: only the last one goes, or an empty last argument (`--save ""`)
            // would go with it.
            string cmdline = File.ReadAllText("/proc/self/cmdline");
            argv = (cmdline.EndsWith('\0') ? cmdline[..^1] : cmdline).Split('\0');
        }
        catch (IOException)
        {
            return;
        }
        // The runtime keeps its environment apart from the C library's: pass it explicitly, with the guard
        // that stops a second restart should SIGINT be ignored again for a reason of its own.
        var env = new List<string?> { Guard + "=1" };
        foreach (System.Collections.DictionaryEntry entry in Environment.GetEnvironmentVariables())
            env.Add(entry.Key + "=" + entry.Value);
        env.Add(null);
        _ = Posix.signal(Posix.SIGINT, Posix.SIG_DFL);
        _ = Posix.execve("/proc/self/exe", [.. argv, null], [.. env]);
        // execve returns only on failure: go on with SIGINT as it was.
    }

    /// <summary>True when <paramref name="signal"/> is in this process's ignored set (/proc/self/status's SigIgn mask).</summary>
    private static bool SignalIgnored(int signal)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("SigIgn:", StringComparison.Ordinal))
                    return (Convert.ToUInt64(line[7..].Trim(), 16) & (1UL << (signal - 1))) != 0;
        }
        catch (IOException)
        {
            // No procfs: nothing to correct.
        }
        return false;
    }

    private static class Posix
    {
        public const int O_RDWR = 2;
        public const int SIGINT = 2;
        public static readonly IntPtr SIG_DFL = IntPtr.Zero;

        [DllImport("libc", SetLastError = true)]
        public static extern IntPtr signal(int signum, IntPtr handler);

        [DllImport("libc", SetLastError = true)]
        public static extern int execve([MarshalAs(UnmanagedType.LPStr)] string path, string?[] argv, string?[] envp);

        [DllImport("libc", SetLastError = true)]
        public static extern int setsid();

        [DllImport("libc", SetLastError = true)]
        public static extern int open([MarshalAs(UnmanagedType.LPStr)] string path, int flags);

        [DllImport("libc", SetLastError = true)]
        public static extern int dup2(int oldFd, int newFd);

        [DllImport("libc", SetLastError = true)]
        public static extern int close(int fd);
    }
}
