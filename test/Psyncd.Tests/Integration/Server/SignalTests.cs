using Psyncd.Tests.Support;

namespace Psyncd.Tests.Integration.Server;

/// <summary>The signals redis-server shuts down on, wherever psyncd was started from.</summary>
[Category("Server")]
public class SignalTests
{
    /// <summary>
    /// `psyncd &` from a script or nohup leaves SIGINT ignored for the child; redis-server installs its own
    /// handler anyway and shuts down on SIGINT, and so must psyncd (the .NET runtime alone would keep it
    /// ignored).
    /// </summary>
    [Test]
    public void SigIntShutsDownCleanlyEvenWhenStartedWithSigIntIgnored()
    {
        using var server = ServerProcess.StartPsyncdWithSigIntIgnored();
        int pid = server.Pid;
        Posix.Signal(pid, Posix.SIGINT);
        Assert.That(server.WaitForExit(TimeSpan.FromSeconds(30)), Is.True, "psyncd exited after SIGINT");
        Assert.That(server.Output, Does.Contain("Received SIGINT scheduling shutdown..."));
        Assert.That(server.ExitCode, Is.Zero);
    }
}
