using System.Runtime.InteropServices;

namespace Psyncd.Tests.Support;

/// <summary>Signals to processes the tests started (by PID only).</summary>
public static class Posix
{
    public const int SIGKILL = 9;
    public const int SIGTERM = 15;
    public const int SIGCONT = 18;
    public const int SIGSTOP = 19;

    [DllImport("libc", SetLastError = true)]
    private static extern int kill(int pid, int sig);

    public static void Signal(int pid, int signal) => kill(pid, signal);

    /// <summary>
    /// SIGSTOP, then waits until every thread of the process is stopped: the signal is delivered
    /// asynchronously, and a thread still running could yet read from its sockets.
    /// </summary>
    public static void StopAndWait(int pid)
    {
        Signal(pid, SIGSTOP);
        Eventually.True(() => AllThreadsStopped(pid), TimeSpan.FromSeconds(10), "process " + pid + " is stopped");
    }

    private static bool AllThreadsStopped(int pid)
    {
        foreach (var task in Directory.EnumerateDirectories("/proc/" + pid + "/task"))
        {
            string stat;
            try
            {
                stat = File.ReadAllText(Path.Combine(task, "stat"));
            }
            catch (IOException)
            {
                continue; // the thread ended meanwhile
            }
            // "tid (comm) S ...": the state follows the command name, which may itself hold spaces or ')'.
            char state = stat[stat.LastIndexOf(')') + 2];
            if (state != 'T' && state != 't')
                return false;
        }
        return true;
    }
}
