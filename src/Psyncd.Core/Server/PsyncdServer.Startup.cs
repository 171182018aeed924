using System.Globalization;
using Psyncd.Diagnostics;

namespace Psyncd.Server;

/// <summary>What the server says and tidies once its listeners are bound, before it loads data (as redis-server does).</summary>
public sealed partial class PsyncdServer
{
    private void AnnounceStartup()
    {
        string port = Options.Port.ToString(CultureInfo.InvariantCulture);
        // As redis-server 7: the banner when asked for (or on a terminal), else one line with the same facts.
        if (Options.AlwaysShowLogo || (Options.LogFile.Length == 0 && !Console.IsOutputRedirected))
        {
            Log.Notice("psyncd " + ServerIdentity.Version + " (Redis " + ServerIdentity.RedisVersion + " compatible) 64 bit");
            Log.Notice("Running in standalone mode");
            Log.Notice("Port: " + port);
            Log.Notice("PID: " + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            Log.Notice("Running mode=standalone, port=" + port + ".");
        }
        Log.Warning("Server initialized");
        if (Options.ProtectedMode && Options.RequirePass.Length == 0)
            Log.Notice("Protected mode is on and no password is set: only clients on 127.0.0.1, ::1 or the Unix socket are served. " +
                       "Set requirepass, or protected-mode no, to serve other hosts.");
        RemoveStaleTempFiles();
    }

    /// <summary>
    /// Deletes the <c>temp-&lt;pid&gt;[-&lt;n&gt;].rdb</c> files in <c>dir</c> that a save of a process no longer running left
    /// behind (a save killed half-way): nothing will ever rename them, and they can be as large as the dataset.
    /// A file of a process that is still alive (another server sharing the directory) is left alone.
    /// </summary>
    private void RemoveStaleTempFiles()
    {
        string[] files;
        try
        {
            files = Directory.GetFiles(Options.Dir, "temp-*.rdb");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return;
        }
        foreach (var path in files)
        {
            // temp-<pid>.rdb (SAVE) or temp-<pid>-<n>.rdb (BGSAVE).
            var name = Path.GetFileNameWithoutExtension(path.AsSpan())["temp-".Length..];
            int dash = name.IndexOf('-');
            if (!int.TryParse(dash < 0 ? name : name[..dash], NumberStyles.None, CultureInfo.InvariantCulture, out int pid))
                continue;
            // Our own pid cannot have saved yet: a file with it is a dead process's whose pid was reused.
            if (pid != Environment.ProcessId && IsProcessAlive(pid))
                continue;
            try
            {
                File.Delete(path);
                Log.Notice("Removed the stale temp file " + Path.GetFileName(path) + " (its process is gone)");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                Log.Warning("Could not remove the stale temp file " + path + ": " + e.Message);
            }
        }
    }

    private static bool IsProcessAlive(int pid)
    {
        if (OperatingSystem.IsLinux())
            return Directory.Exists("/proc/" + pid.ToString(CultureInfo.InvariantCulture));
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }
}
