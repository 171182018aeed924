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

    /// <summary>
    /// The restart that gives SIGINT back keeps every argument, empty ones last included: `psyncd --save "" &`
    /// from a script failed with "Bad directive or wrong number of arguments" at `save`, its empty value lost.
    /// </summary>
    [Test]
    public void ARestartForSigIntKeepsEmptyArgumentsEvenLast()
    {
        using var server = ServerProcess.StartPsyncdWithSigIntIgnored("--masterauth", "", "--appendfsync", "no", "--requirepass", "");
        using var c = server.Connect();
        Assert.That(c.Command("CONFIG", "GET", "requirepass"), Is.EqualTo("*2\r\n$11\r\nrequirepass\r\n$0\r\n\r\n"));
        Assert.That(c.Command("CONFIG", "GET", "appendfsync"), Is.EqualTo("*2\r\n$11\r\nappendfsync\r\n$2\r\nno\r\n"));
        Assert.That(server.Output, Does.Not.Contain("FATAL"));
    }
}
