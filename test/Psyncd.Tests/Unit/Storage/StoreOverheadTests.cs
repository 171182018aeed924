using Psyncd.Config;
using Psyncd.Server;
using Psyncd.Storage;

namespace Psyncd.Tests.Unit.Storage;

/// <summary>
/// What the store holds before it holds data, with the default settings. redis-server 7.0.15's used_memory
/// with one key is under 1 MB; psyncd's store alone held 24 MB (a 16 MB hash index and two cleared 4 MB log
/// pages), all of it in used_memory and the pages in RSS: a dataset of a few large collections paid it whole.
/// </summary>
public class StoreOverheadTests
{
    [Test]
    public void DefaultStoreWithOneKeyHoldsAtMostTwoMegabytesOfLogAndOneOfIndex()
    {
        var settings = PsyncdServer.StoreSettingsFrom(new ServerOptions());
        using var keyspace = new Keyspace(settings, 16);
        keyspace.EnterLoop();
        try
        {
            keyspace.SetString(0, "key"u8, "value"u8);
            Assert.That(keyspace.LogMemoryBytes, Is.LessThanOrEqualTo(2L << 20), "log pages allocated");
            Assert.That(keyspace.IndexBytes, Is.LessThanOrEqualTo(1L << 20), "hash index");
        }
        finally
        {
            keyspace.ExitLoop();
        }
    }
}
