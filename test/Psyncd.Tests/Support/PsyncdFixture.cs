namespace Psyncd.Tests.Support;

/// <summary>
/// A fixture with one psyncd server for all its tests and one raw connection to it (tests use distinct
/// keys, so they can share both).
/// </summary>
public abstract class PsyncdFixture
{
    protected ServerProcess Server { get; private set; } = null!;

    protected RawClient Client { get; private set; } = null!;

    [OneTimeSetUp]
    public void StartServer()
    {
        Server = ServerProcess.StartPsyncd();
        Client = Server.Connect();
    }

    [OneTimeTearDown]
    public void StopServer()
    {
        Client?.Dispose();
        Server?.Dispose();
    }

    /// <summary>Sends a command on the fixture's connection and returns the reply's exact text.</summary>
    protected string Do(params string[] args) => Client.Command(args);
}
