using StackExchange.Redis;

namespace Psyncd.Tests.Support;

/// <summary>StackExchange.Redis connections for the tests, with the same patience as <see cref="RawClient"/>.</summary>
/// <remarks>
/// StackExchange.Redis 1.2.6 gives a synchronous call one second (syncTimeout) and a connection five: a loaded
/// machine (the whole suite beside torture and other builds) once left a TYPE unanswered for a second, and
/// the test failed on the client's clock, not on psyncd's reply. Thirty seconds, as RawClient waits for a
/// reply, still fails a reply that never comes.
/// </remarks>
public static class StackExchangeClient
{
    /// <summary>A multiplexer for 127.0.0.1:<paramref name="port"/>; <paramref name="options"/> (e.g. "allowAdmin=true") are added.</summary>
    public static ConnectionMultiplexer Connect(int port, string options = "")
    {
        string configuration = "127.0.0.1:" + port + ",abortConnect=false,connectTimeout=30000,syncTimeout=30000";
        return ConnectionMultiplexer.Connect(options.Length == 0 ? configuration : configuration + "," + options);
    }
}
