using System.Text;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Replication;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.Admin;

/// <summary>CONFIG GET / SET / RESETSTAT / REWRITE, all through <see cref="ConfigRegistry"/>.</summary>
internal sealed class ConfigCommands
{
    private readonly ServerLog _log;
    private readonly ReplicationStream _stream;
    private readonly ReplicationManager _replication;
    private readonly ServerStats _stats;
    private readonly CommandLoop _loop;
    private readonly CommandTable _table;
    private readonly Keyspace _keyspace;
    private readonly MemoryMonitor _memory;
    private readonly MemoryEviction _eviction;

    public ConfigCommands(ServerLog log, ReplicationStream stream, ReplicationManager replication, ServerStats stats, CommandLoop loop, CommandTable table, Keyspace keyspace,
        MemoryMonitor memory, MemoryEviction eviction)
    {
        _eviction = eviction;
        _log = log;
        _stream = stream;
        _replication = replication;
        _stats = stats;
        _loop = loop;
        _table = table;
        _keyspace = keyspace;
        _memory = memory;
    }

    public void Register(CommandTable table)
    {
        table.Add("config", -2, CommandFlags.Admin | CommandFlags.ReadOnly | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.NoScript, Config);
        table.AddSubcommands("config", ("help", 2), ("get", -3), ("rewrite", 2), ("resetstat", 2), ("set", -4));
    }

    private void Config(CommandContext ctx, in CommandArgs args)
    {
        var sub = args[1];
        // The dispatcher has checked each subcommand's arity (declared in Register) before this runs.
        if (Keyword.Is(sub, "GET"u8))
        {
            Get(ctx, args);
        }
        else if (Keyword.Is(sub, "SET"u8))
        {
            if (args.Count % 2 != 0)
                ctx.SyntaxError();
            else
                Set(ctx, args);
        }
        else if (Keyword.Is(sub, "RESETSTAT"u8))
        {
            ResetStatistics();
            ctx.Reply.WriteOk();
        }
        else if (Keyword.Is(sub, "REWRITE"u8))
        {
            Rewrite(ctx);
        }
        else if (Keyword.Is(sub, "HELP"u8) && args.Count == 2)
        {
            HelpReply.Write(ctx.Reply, "CONFIG", s_help);
        }
        else
        {
            ctx.Reply.WriteError(ErrorReplies.UnknownSubcommand(sub, "CONFIG"));
        }
    }

    /// <summary>True for directives CONFIG GET shows (not rename-command, not the compatibility-only ones).</summary>
    private static bool Visible(ConfigDirective d) => d.Name != "rename-command" && !ConfigRegistry.IsIgnored(d.Name);

    private static readonly string[] s_help =
    {
        "GET <pattern> [<pattern> ...]",
        "    Answer every parameter whose name matches a glob <pattern>, with its value.",
        "SET <parameter> <value> [<parameter> <value> ...]",
        "    Change parameters while the server runs (all of them, or none when one is refused).",
        "RESETSTAT",
        "    Clear the statistics INFO reports.",
        "REWRITE",
        "    Write the running configuration back into the configuration file.",
    };

    /// <summary>CONFIG GET pattern [pattern ...]: name/value pairs of every matching directive and alias, each once.</summary>
    private void Get(CommandContext ctx, in CommandArgs args)
    {
        var matched = new List<(string Name, string Value)>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 2; i < args.Count; i++)
        {
            var pattern = args[i];
            foreach (var directive in ConfigRegistry.All)
            {
                if (!Visible(directive))
                    continue;
                foreach (var name in directive.Aliases.Prepend(directive.Name))
                {
                    if (seen.Contains(name) || !GlobMatcher.IsMatch(pattern, Encoding.ASCII.GetBytes(name), ignoreCase: true))
                        continue;
                    seen.Add(name);
                    matched.Add((name, directive.Format(ctx.Options)));
                }
            }
        }
        ctx.Reply.WriteMapHeader(matched.Count);
        foreach (var (name, value) in matched)
        {
            ctx.Reply.WriteBulk(name);
            ctx.Reply.WriteBulk(value);
        }
    }

    /// <summary>
    /// CONFIG SET name value [name value ...]: every pair is checked first (on a scratch copy), then all are
    /// applied, so a failing pair changes nothing, as in Redis 7.
    /// </summary>
    private void Set(CommandContext ctx, in CommandArgs args)
    {
        var pairs = new List<(ConfigDirective Directive, string Name, string[] Values)>();
        for (int i = 2; i < args.Count; i += 2)
        {
            string name = Encoding.UTF8.GetString(args[i]);
            string value = Encoding.UTF8.GetString(args[i + 1]);
            var directive = ConfigRegistry.Find(name);
            if (directive is null || directive.Name == "rename-command")
            {
                ctx.Reply.WriteError("ERR Unknown option or number of arguments for CONFIG SET - '" + name + "'");
                return;
            }
            if (!directive.Mutable)
            {
                Failed(ctx, name, "can't set immutable config");
                return;
            }
            if (directive.Protected && !ctx.Client.MayUse(ctx.Options.EnableProtectedConfigs))
            {
                Failed(ctx, name, "can't set protected config");
                return;
            }
            if (pairs.Exists(p => p.Directive == directive))
            {
                Failed(ctx, name, "duplicate parameter");
                return;
            }
            var values = SplitValue(directive, value);
            if (values.Length < directive.MinArgs || (directive.MaxArgs >= 0 && values.Length > directive.MaxArgs))
            {
                Failed(ctx, name, "wrong number of arguments");
                return;
            }
            try
            {
                var probe = new ServerOptions();
                Prepare(directive, probe);
                directive.Apply(probe, values);
            }
            catch (ConfigException e)
            {
                Failed(ctx, name, e.Message);
                return;
            }
            pairs.Add((directive, name, values));
        }
        foreach (var (directive, _, values) in pairs)
        {
            Prepare(directive, ctx.Options);
            directive.Apply(ctx.Options, values);
            ApplySideEffects(ctx.Options, directive);
        }
        ctx.Reply.WriteOk();
    }

    private void Failed(CommandContext ctx, string name, string reason)
        => ctx.Reply.WriteError("ERR CONFIG SET failed (possibly related to argument '" + name + "') - " + reason);

    /// <summary>A CONFIG SET value is one argument, or for list-valued directives (save, bind, output limits) a space-separated list.</summary>
    private static string[] SplitValue(ConfigDirective directive, string value)
    {
        if (directive.MaxArgs == 1 && directive.MinArgs <= 1)
            return new[] { value };
        var parts = value.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return parts.Length == 0 ? new[] { "" } : parts;
    }

    /// <summary>CONFIG SET replaces list-valued settings instead of adding to them (save points).</summary>
    private static void Prepare(ConfigDirective directive, ServerOptions options)
    {
        if (directive.Name == "save")
            options.Save.Clear();
    }

    /// <summary>What a new value changes beyond the option itself.</summary>
    private void ApplySideEffects(ServerOptions options, ConfigDirective directive)
    {
        switch (directive.Name)
        {
            case "loglevel":
                _log.Level = options.LogLevel;
                break;
            case "repl-backlog-size":
                _stream.Backlog?.Resize(options.ReplBacklogSize);
                break;
            case "dir":
                Directory.SetCurrentDirectory(options.Dir);
                break;
            case "min-slaves-to-write":
            case "min-slaves-max-lag":
                // Counted again at once, as Redis does: a write right after may depend on the new rule.
                _replication.RefreshGoodReplicas();
                break;
            case "appendonly":
                // Turning the log on writes its first base from a snapshot while the loop serves; off closes it.
                if (options.AppendOnly && _stream.Aof is { } aof && !aof.Enable())
                    options.AppendOnly = false;
                else if (!options.AppendOnly)
                    _stream.Aof?.Disable();
                break;
            case "maxmemory":
                if (options.MaxMemory > 0)
                {
                    // Garbage the collector has not freed yet would count as data and be evicted for: a full
                    // collection first (CONFIG SET maxmemory is rare, and Redis's figure has no garbage).
                    GC.Collect();
                    long used = _eviction.CountedMemory();
                    if (options.MaxMemory < used)
                    {
                        _log.Warning("WARNING: the new maxmemory value set via CONFIG SET (" + options.MaxMemory + ") is smaller than the current memory usage ("
                            + used + "). This will result in key eviction and/or the inability to accept new write commands depending on the maxmemory-policy.");
                    }
                    // Evicted now, as Redis 7 does, not only at the next command.
                    _eviction.Perform();
                }
                break;
            case "requirepass":
                // Connections already open stay authenticated (as with Redis 6+'s default user); new ones must AUTH.
                break;
        }
    }

    /// <summary>CONFIG REWRITE: the config file, updated in place (see <see cref="ConfigRewriter"/>).</summary>
    private void Rewrite(CommandContext ctx)
    {
        var path = ctx.Options.ConfigFile;
        if (path is null)
        {
            ctx.Reply.WriteError("ERR The server is running without a config file");
            return;
        }
        try
        {
            ConfigRewriter.Rewrite(path, ctx.Options);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _log.Warning("CONFIG REWRITE failed: " + e.Message);
            ctx.Reply.WriteError("ERR Rewriting config file: " + e.Message);
            return;
        }
        _log.Notice("CONFIG REWRITE executed with success.");
        ctx.Reply.WriteOk();
    }

    /// <summary>Resets the counters CONFIG RESETSTAT resets: server stats, command stats, keyspace hits and misses, the memory peak.</summary>
    private void ResetStatistics()
    {
        _stats.Reset();
        _loop.OutputBytes = 0;
        foreach (var cmd in _table.All)
        {
            cmd.Calls = 0;
            cmd.Microseconds = 0;
            cmd.Histogram = null;
            cmd.SubcommandHistograms = null;
        }
        _keyspace.KeyspaceHits = 0;
        _keyspace.KeyspaceMisses = 0;
        _keyspace.ExpiredKeys = 0;
        _memory.ResetPeak();
    }
}
