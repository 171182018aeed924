using System.Text.RegularExpressions;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Admin;

/// <summary>
/// What MONITOR shows, compared with redis-server 7.0.15 line by line (the timestamp and the client's port left
/// out): a command is shown once it has run, in the database it left the client in, with its secrets redacted;
/// EVAL before the commands its script runs; EXEC after the commands it ran.
/// </summary>
[Category("Interop")]
public class MonitorDifferentialTests : DifferentialFixture
{
    private static readonly Regex s_line = new(@"^\+\d+\.\d{6} \[(\d+) ([^\]]+)\] (.*)\r\n$");

    private static List<string> Watch(ServerProcess server, IEnumerable<string[]> commands)
    {
        using var monitor = server.Connect();
        Assert.That(monitor.Command("MONITOR"), Is.EqualTo("+OK\r\n"));
        using var c = server.Connect();
        int sent = 0;
        foreach (var command in commands)
        {
            c.Command(command);
            sent++;
        }
        // A last command that is shown marks the end of what the sequence produced.
        c.Command("ECHO", "end-of-sequence");
        var lines = new List<string>();
        while (true)
        {
            string line = monitor.ReadReply();
            var m = s_line.Match(line);
            Assert.That(m.Success, Is.True, "a MONITOR line: " + line);
            string where = m.Groups[2].Value == "lua" ? "lua" : "client";
            if (m.Groups[3].Value == "\"ECHO\" \"end-of-sequence\"")
                return lines;
            lines.Add("[" + m.Groups[1].Value + " " + where + "] " + m.Groups[3].Value);
        }
    }

    [Test]
    public void MonitorShowsWhatRedisShows()
    {
        var commands = new[]
        {
            new[] { "SET", "m:a", "1" },
            new[] { "AUTH", "not-the-password" },
            new[] { "AUTH", "someone", "not-the-password" },
            new[] { "AUTH", "a", "b", "c" },
            new[] { "HELLO", "2", "AUTH", "default", "not-the-password" },
            new[] { "MIGRATE", "127.0.0.1", "1", "", "0", "10", "AUTH", "secret", "KEYS", "m:missing" },
            new[] { "MIGRATE", "127.0.0.1", "1", "", "0", "10", "AUTH2", "user", "secret", "KEYS", "m:missing" },
            new[] { "MULTI" },
            new[] { "SET", "m:b", "2" },
            new[] { "INCR", "m:b" },
            new[] { "EXEC" },
            new[] { "MULTI" },
            new[] { "NOSUCHCOMMAND" },
            new[] { "EXEC" },
            new[] { "SELECT", "3" },
            new[] { "SET", "m:c", "3" },
            new[] { "EVAL", "redis.call('set', KEYS[1], 'v') return redis.call('get', KEYS[1])", "1", "m:d" },
            new[] { "SELECT", "0" },
            new[] { "CONFIG", "GET", "maxmemory" },
            new[] { "GET", "m:a" },
        };
        var expected = Watch(_redis, commands);
        var actual = Watch(_psyncd, commands);
        Assert.That(actual, Is.EqualTo(expected));
        // The sequence has secrets: the comparison would be empty of meaning without them.
        Assert.That(expected, Has.Some.Contains("(redacted)"));
    }
}
