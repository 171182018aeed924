namespace Psyncd.Tests.Support;

/// <summary>
/// A <see cref="DifferentialFixture"/> whose tests each get one connection to each server and send every
/// command to both with <see cref="Both"/>, which asserts that the replies are the same bytes.
/// </summary>
public abstract class PairedDifferentialFixture : DifferentialFixture
{
    protected RawClient _p = null!;
    protected RawClient _r = null!;

    [SetUp]
    public void ConnectBoth()
    {
        _p = _psyncd.Connect();
        _r = _redis.Connect();
        AfterConnect();
    }

    [TearDown]
    public void DisconnectBoth()
    {
        BeforeDisconnect();
        _p.Dispose();
        _r.Dispose();
    }

    /// <summary>Runs once both connections are open (e.g. a FLUSHALL on both).</summary>
    protected virtual void AfterConnect()
    {
    }

    /// <summary>Runs before the connections close (e.g. restoring a directive on both).</summary>
    protected virtual void BeforeDisconnect()
    {
    }

    /// <summary>Sends the command to both servers (arguments as Latin-1: any bytes) and asserts equal replies.</summary>
    protected string Both(params string[] command)
    {
        string mine = _p.Command(command);
        Assert.That(mine, Is.EqualTo(_r.Command(command)), Describe(command));
        return mine;
    }

    /// <summary>A command as a one-line message: long arguments cut, line breaks shown.</summary>
    protected static string Describe(string[] command)
        => string.Join(' ', command.Select(a => a.Length > 40 ? a[..40] + "..." : a)).Replace("\r", "\\r").Replace("\n", "\\n");
}
