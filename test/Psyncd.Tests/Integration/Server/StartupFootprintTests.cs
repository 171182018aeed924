using Psyncd.Tests.Support;

namespace Psyncd.Tests.Integration.Server;

/// <summary>
/// What a running server maps without need. The run id, the replication id and the hash seed came from
/// RandomNumberGenerator, which on Linux loads OpenSSL (libcrypto, libssl) and the cryptography assembly:
/// 5 MB of RSS in every server for 48 random bytes (docs/memory.md). They come from /dev/urandom now.
/// </summary>
public class StartupFootprintTests
{
    [Test]
    public void ServerUsingItsCommonCommandsDoesNotLoadOpenSsl()
    {
        using var server = ServerProcess.StartPsyncd();
        using var client = server.Connect();
        Assert.That(client.Command("SET", "k", "v"), Is.EqualTo("+OK\r\n"));
        Assert.That(client.Command("HSET", "h", "f", "v"), Is.EqualTo(":1\r\n"));
        Assert.That(client.Command("ZADD", "z", "1", "m"), Is.EqualTo(":1\r\n"));
        Assert.That(client.Command("INFO", "server"), Does.Contain("run_id:"));
        Assert.That(client.Command("INFO", "replication"), Does.Contain("master_replid:"));
        var mapped = File.ReadAllLines("/proc/" + server.Pid + "/maps");
        Assert.That(mapped.Where(line => line.Contains("libcrypto", StringComparison.Ordinal) || line.Contains("libssl", StringComparison.Ordinal)
            || line.Contains("System.Security.Cryptography", StringComparison.Ordinal)), Is.Empty);
    }
}
