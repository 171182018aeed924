using System.Text;
using Psyncd.Protocol;

namespace Psyncd.Config;

/// <summary>Where a configuration error was found, for redis-server's FATAL CONFIG FILE ERROR report.</summary>
public sealed class ConfigFileException : Exception
{
    public ConfigFileException(int lineNumber, string line, string reason)
        : base(reason)
    {
        LineNumber = lineNumber;
        Line = line;
        Reason = reason;
    }

    public int LineNumber { get; }

    public string Line { get; }

    public string Reason { get; }

    /// <summary>The report redis-server prints to standard error before exiting with status 1.</summary>
    public string Report =>
        "\n*** FATAL CONFIG FILE ERROR ***\n" +
        "Reading the configuration file, at line " + LineNumber + "\n" +
        ">>> '" + Line + "'\n" +
        Reason + "\n";
}

/// <summary>
/// Reads redis.conf text: one directive per line, arguments split like redis-cli splits them (quotes and
/// escapes included), <c>#</c> comments, <c>include</c>, case-insensitive names. The command line's
/// <c>--directive value</c> pairs are turned into lines of the same text by <see cref="FromCommandLine"/>.
/// </summary>
public sealed class ConfigFileParser
{
    private readonly ServerOptions _options;
    private readonly HashSet<string> _seen = new(StringComparer.OrdinalIgnoreCase);
    private int _includeDepth;

    public ConfigFileParser(ServerOptions options)
    {
        _options = options;
    }

    /// <summary>Loads a config file (or standard input for "-") and applies it.</summary>
    public void LoadFile(string path)
    {
        string text;
        try
        {
            text = path == "-" ? Console.In.ReadToEnd() : File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new ConfigException("Fatal error, can't open config file '" + path + "': " + e.Message);
        }
        if (path != "-")
            _options.ConfigFile ??= Path.GetFullPath(path);
        LoadText(text);
    }

    /// <summary>Applies configuration text, line by line.</summary>
    public void LoadText(string text)
    {
        var lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim(' ', '\t', '\r', '\n');
            if (line.Length == 0 || line[0] == '#')
                continue;
            var args = SplitArgs(line);
            if (args is null)
                throw new ConfigFileException(i + 1, line, "Unbalanced quotes in configuration line");
            if (args.Length == 0)
                continue;
            try
            {
                ApplyDirective(args[0].ToLowerInvariant(), args[1..]);
            }
            catch (ConfigException e)
            {
                throw new ConfigFileException(i + 1, line, e.Message);
            }
        }
    }

    private void ApplyDirective(string name, string[] args)
    {
        if (name == "include")
        {
            if (args.Length != 1)
                throw new ConfigException("Bad directive or wrong number of arguments");
            if (++_includeDepth > 16)
                throw new ConfigException("Too many nested include directives");
            try
            {
                string path = args[0];
                if (!Path.IsPathRooted(path) && _options.ConfigFile is not null)
                    path = Path.Combine(Path.GetDirectoryName(_options.ConfigFile)!, path);
                LoadFile(path);
            }
            finally
            {
                _includeDepth--;
            }
            return;
        }
        var directive = ConfigRegistry.Find(name);
        // As Redis 7 does for its multi-argument directives: one argument holding blanks
        // (--save "900 1 300 10") is split into several.
        if (directive is not null && args.Length == 1 && args[0].Contains(' ') && directive.Name is "save" or "client-output-buffer-limit" or "bind")
            args = args[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (directive is null || args.Length < directive.MinArgs || (directive.MaxArgs >= 0 && args.Length > directive.MaxArgs))
            throw new ConfigException("Bad directive or wrong number of arguments");
        // The first "save" line replaces the default save points; later ones add to them.
        if (directive.Name == "save" && _seen.Add("save") && !(args.Length == 1 && args[0].Length == 0))
            _options.Save.Clear();
        directive.Apply(_options, args);
    }

    /// <summary>
    /// Turns redis-server style arguments after the config file into configuration text: each
    /// <c>--name</c> starts a line and the values that follow are quoted onto it.
    /// </summary>
    public static string FromCommandLine(IReadOnlyList<string> args)
    {
        var sb = new StringBuilder();
        foreach (var arg in args)
        {
            if (arg.StartsWith("--", StringComparison.Ordinal))
            {
                if (sb.Length > 0)
                    sb.Append('\n');
                sb.Append(arg, 2, arg.Length - 2).Append(' ');
            }
            else
            {
                // Always quoted, as redis-server 7 does, so an error report shows e.g. >>> 'port "99999"'.
                string quoted = ConfigValues.QuoteIfNeeded(arg);
                sb.Append(quoted.StartsWith('"') ? quoted : "\"" + quoted + "\"").Append(' ');
            }
        }
        return sb.ToString();
    }

    /// <summary>Splits a line like redis-server's sdssplitargs; null when quotes are unbalanced.</summary>
    public static string[]? SplitArgs(string line)
    {
        var parser = new RequestParser();
        if (!parser.TrySplitLine(Encoding.UTF8.GetBytes(line)))
            return null;
        var result = new string[parser.Args.Length];
        for (int i = 0; i < result.Length; i++)
        {
            var slice = parser.Args[i];
            result[i] = Encoding.UTF8.GetString(parser.InlineBuffer.Slice(slice.Offset, slice.Length));
        }
        return result;
    }
}
