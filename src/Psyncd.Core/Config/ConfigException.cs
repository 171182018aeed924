namespace Psyncd.Config;

/// <summary>A directive or value that cannot be accepted; the message says why, in redis-server's words.</summary>
public sealed class ConfigException : Exception
{
    public ConfigException(string message)
        : base(message)
    {
    }
}
