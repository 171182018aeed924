namespace Psyncd.Tests.Support;

/// <summary>
/// Base of the fixtures that send the same requests to psyncd and to a real redis-server and compare the
/// replies: one server of each for the whole fixture (tests use distinct keys or flush), started before
/// the fixture's own one-time set-up and stopped by PID after it.
/// </summary>
public abstract class DifferentialFixture
{
    protected ServerProcess _psyncd = null!;
    protected ServerProcess _redis = null!;

    /// <summary>Directives both servers start with, after the defaults (e.g. <c>--enable-debug-command yes</c>).</summary>
    protected virtual string[] ServerArgs => [];

    [OneTimeSetUp]
    public void StartServers()
    {
        _redis = ServerProcess.StartRedis(ServerArgs);
        _psyncd = ServerProcess.StartPsyncd(ServerArgs);
    }

    [OneTimeTearDown]
    public void StopServers()
    {
        _psyncd?.Dispose();
        _redis?.Dispose();
    }
}
