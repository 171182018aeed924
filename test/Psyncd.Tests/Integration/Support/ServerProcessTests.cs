using Psyncd.Tests.Support;

namespace Psyncd.Tests.Integration.Support;

/// <summary>The harness's own promises: a server it says is ready is the process it started.</summary>
public class ServerProcessTests
{
    /// <summary>
    /// Another process holding the chosen port answers PING while the child fails to bind it: that PONG is not
    /// the child's readiness (tests would then talk to the wrong server, or find nothing there later).
    /// </summary>
    [Test]
    public void APongFromAnotherProcessOnThePortIsNotReadiness()
    {
        using var holder = ServerProcess.StartPsyncd();
        string dir = ServerProcess.NewDir();
        try
        {
            Assert.Throws<PortTakenException>(() => ServerProcess.StartPsyncdIn(dir, holder.Port).Dispose());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
