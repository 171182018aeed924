using System.Runtime.InteropServices;

namespace Psyncd.Tests.Support;

/// <summary>Signals to processes the tests started (by PID only).</summary>
public static class Posix
{
    public const int SIGINT = 2;
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

    /// <summary>
    /// Stops the process at a moment when its socket-polling thread waits in epoll_wait (psyncd's event loop, the
    /// "psyncd io" thread, else the main thread, redis-server's event loop), retrying with a SIGCONT in between. A stop that
    /// lands while a request is still being served would leave that connection's next read to be issued after
    /// SIGCONT, ahead of sockets the poll already reported: the order would then be the stop's, not the server's.
    /// </summary>
    public static void StopWhilePolling(int pid)
    {
        Eventually.True(() =>
        {
            StopAndWait(pid);
            if (PollerWaits(pid))
                return true;
            Signal(pid, SIGCONT);
            return false;
        }, TimeSpan.FromSeconds(10), "process " + pid + " stopped while it waits in epoll_wait");
    }

    private static bool PollerWaits(int pid)
    {
        string poller = Path.Combine("/proc/" + pid + "/task", pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        foreach (var task in Directory.EnumerateDirectories("/proc/" + pid + "/task"))
        {
            try
            {
                // The runtime's own ".NET Sockets" poller may exist beside it (a .NET socket used once) and idles in
                // epoll_wait all along: only the event loop's thread tells whether requests are being served.
                if (File.ReadAllText(Path.Combine(task, "comm")).Trim() == "psyncd io")
                    poller = task;
            }
            catch (IOException)
            {
            }
        }
        string syscall;
        try
        {
            syscall = File.ReadAllText(Path.Combine(poller, "syscall"));
        }
        catch (IOException)
        {
            return false;
        }
        // x86_64: epoll_wait 232, epoll_pwait 281, epoll_pwait2 441.
        string number = syscall.Split(' ', 2)[0];
        return number is "232" or "281" or "441";
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
