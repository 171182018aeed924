namespace Psyncd.Config;

/// <summary>
/// One redis.conf directive: how to read its arguments into <see cref="ServerOptions"/>, how to write its
/// current value back (CONFIG GET, CONFIG REWRITE), and whether CONFIG SET may change it at runtime.
/// </summary>
public sealed class ConfigDirective
{
    public ConfigDirective(
        string name,
        Action<ServerOptions, string[]> apply,
        Func<ServerOptions, string> format,
        int minArgs = 1,
        int maxArgs = 1,
        bool mutable = true,
        string[]? aliases = null)
    {
        Name = name;
        Apply = apply;
        Format = format;
        MinArgs = minArgs;
        MaxArgs = maxArgs;
        Mutable = mutable;
        Aliases = aliases ?? Array.Empty<string>();
    }

    /// <summary>The name, lower case, as CONFIG GET reports it.</summary>
    public string Name { get; }

    /// <summary>Other accepted spellings (e.g. the <c>replica-</c> forms of Redis 5).</summary>
    public string[] Aliases { get; }

    /// <summary>
    /// The name CONFIG REWRITE writes: redis-server 7.0's own spelling where the directive was renamed (the
    /// <c>replica</c>, <c>-listpack-</c> and <c>busy-reply-threshold</c> forms; psyncd's primary names are
    /// Redis 2.8's), so that a rewritten file reads as one redis-server 7.0 wrote.
    /// </summary>
    public string RewriteName => Array.Find(Aliases, alias => alias.Contains("replica") || alias.Contains("-listpack-") || alias == "busy-reply-threshold") ?? Name;

    /// <summary>Parses the arguments (without the name) into the options; throws <see cref="ConfigException"/>.</summary>
    public Action<ServerOptions, string[]> Apply { get; }

    /// <summary>The current value as CONFIG GET shows it.</summary>
    public Func<ServerOptions, string> Format { get; }

    public int MinArgs { get; }

    /// <summary>Most arguments; -1 for any number.</summary>
    public int MaxArgs { get; }

    /// <summary>True when CONFIG SET may change it while running.</summary>
    public bool Mutable { get; }

    /// <summary>
    /// True when CONFIG SET may change it only as <c>enable-protected-configs</c> allows (Redis 7's
    /// PROTECTED_CONFIG: the settings that choose where the server writes files).
    /// </summary>
    public bool Protected { get; init; }

    /// <summary>True when the directive may appear many times, each adding to its value (save, rename-command...).</summary>
    public bool Repeatable { get; init; }

    /// <summary>Lines CONFIG REWRITE writes for the current value (default: one line, name and value).</summary>
    public Func<ServerOptions, IEnumerable<string>>? RewriteLines { get; init; }
}
