using System.Diagnostics;

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

    /// <summary>
    /// Asserts that TTL <paramref name="key"/> answers <paramref name="seconds"/>, rounded to the nearest second as
    /// redis-server rounds it: exactly that while at most half a second passed since <paramref name="set"/> was
    /// started (just before the command that set the time to live), and lower by no more than the time that passed
    /// beyond it: a loaded machine once took longer than half a second between SETEX and TTL.
    /// </summary>
    protected void AssertTtl(string key, long seconds, Stopwatch set)
    {
        string reply = Do("TTL", key);
        long elapsedMs = set.ElapsedMilliseconds;
        Assert.That(reply, Does.Match(@"^:[0-9]+\r\n$"), "TTL " + key);
        long least = Math.Min(seconds, (seconds * 1000 - elapsedMs + 500) / 1000);
        Assert.That(long.Parse(reply[1..^2]), Is.InRange(least, seconds), "TTL " + key + ", " + elapsedMs + " ms after it was set");
    }
}
