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
}
