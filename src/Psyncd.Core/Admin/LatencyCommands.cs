using System.Globalization;
using System.Text;
using Psyncd.Config;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Text;

namespace Psyncd.Admin;

/// <summary>
/// LATENCY LATEST / HISTORY / RESET / GRAPH / DOCTOR / HELP over the <see cref="LatencyMonitor"/>, and
/// HISTOGRAM over the commands' <see cref="LatencyHistogram"/>s, in redis-server 7.0's reply shapes; GRAPH's
/// chart and DOCTOR's report are psyncd's own text.
/// </summary>
internal sealed class LatencyCommands
{
    private readonly LatencyMonitor _monitor;
    private readonly ServerOptions _options;
    private readonly CommandTable _table;

    public LatencyCommands(LatencyMonitor monitor, ServerOptions options, CommandTable table)
    {
        _monitor = monitor;
        _options = options;
        _table = table;
    }

    public void Register(CommandTable table)
    {
        table.Add("latency", -2, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale, Latency);
        table.AddSubcommands("latency", ("doctor", 2), ("graph", 3), ("help", 2), ("histogram", -2), ("history", 3), ("latest", 2), ("reset", -2));
    }

    private void Latency(CommandContext ctx, in CommandArgs args)
    {
        var sub = args[1];
        var reply = ctx.Reply;
        if (Keyword.Is(sub, "LATEST"u8))
        {
            reply.WriteArrayHeader(_monitor.Events.Count);
            foreach (var (name, history) in _monitor.Events)
            {
                reply.WriteArrayHeader(4);
                reply.WriteBulk(name);
                reply.WriteInteger(history.Latest.UnixSeconds);
                reply.WriteInteger(history.Latest.Milliseconds);
                reply.WriteInteger(history.Max);
            }
        }
        else if (Keyword.Is(sub, "HISTORY"u8))
        {
            if (!_monitor.Events.TryGetValue(Encoding.UTF8.GetString(args[2]), out var history))
            {
                reply.WriteArrayHeader(0);
                return;
            }
            var samples = history.Samples.ToList();
            reply.WriteArrayHeader(samples.Count);
            foreach (var sample in samples)
            {
                reply.WriteArrayHeader(2);
                reply.WriteInteger(sample.UnixSeconds);
                reply.WriteInteger(sample.Milliseconds);
            }
        }
        else if (Keyword.Is(sub, "RESET"u8))
        {
            if (args.Count == 2)
            {
                reply.WriteInteger(_monitor.ResetAll());
                return;
            }
            long reset = 0;
            for (int i = 2; i < args.Count; i++)
                reset += _monitor.Reset(Encoding.UTF8.GetString(args[i])) ? 1 : 0;
            reply.WriteInteger(reset);
        }
        else if (Keyword.Is(sub, "GRAPH"u8))
        {
            string name = Encoding.UTF8.GetString(args[2]);
            if (!_monitor.Events.TryGetValue(name, out var history))
                reply.WriteError("ERR No samples available for event '" + name + "'");
            else
                reply.WriteVerbatim(Graph(name, history, DateTimeOffset.UtcNow.ToUnixTimeSeconds()));
        }
        else if (Keyword.Is(sub, "DOCTOR"u8))
        {
            reply.WriteVerbatim(Doctor());
        }
        else if (Keyword.Is(sub, "HISTOGRAM"u8))
        {
            Histogram(ctx, args);
        }
        else if (Keyword.Is(sub, "HELP"u8))
        {
            HelpReply.Write(reply, "LATENCY", s_help);
        }
        else
        {
            reply.WriteError(ErrorReplies.UnknownSubcommand(sub, "LATENCY"));
        }
    }

    private static readonly string[] s_help =
    {
        "DOCTOR",
        "    Explain in plain words what the latency monitor recorded.",
        "GRAPH <event>",
        "    Draw the recorded latency of <event> as a text chart.",
        "HISTORY <event>",
        "    Answer the recorded [time, milliseconds] samples of <event>.",
        "LATEST",
        "    Answer the last sample and the highest latency of every event.",
        "RESET [<event> ...]",
        "    Forget the samples of the named events (of all events when none is named).",
        "HISTOGRAM [COMMAND ...]",
        "    Answer each named command's latency distribution (every command's when none is named): its calls and the",
        "    cumulative calls per power-of-two bucket, in microseconds.",
    };

    /// <summary>
    /// LATENCY HISTOGRAM [command ...]: a map from command name (<c>config|get</c> for a subcommand) to its calls and
    /// cumulative latency buckets, for the commands with recorded calls. Named commands are answered in the order
    /// given (a name given twice, twice; an unknown one left out; a container stands for its subcommands), as in
    /// Redis 7.0; without names, every command with calls, in the table's order.
    /// </summary>
    private void Histogram(CommandContext ctx, in CommandArgs args)
    {
        var found = new List<(string Name, LatencyHistogram Histogram)>();
        if (args.Count == 2)
        {
            foreach (var cmd in _table.All)
                AddHistograms(cmd, found);
        }
        for (int i = 2; i < args.Count; i++)
        {
            string name = Encoding.UTF8.GetString(args[i]).ToLowerInvariant();
            int bar = name.IndexOf('|');
            var cmd = _table.Find(bar < 0 ? name : name[..bar]);
            if (cmd is null)
                continue;
            if (bar < 0)
            {
                AddHistograms(cmd, found);
            }
            else if (cmd.SubcommandHistograms is { } subs && subs.TryGetValue(name[(bar + 1)..], out var histogram))
            {
                found.Add((name, histogram));
            }
        }
        var reply = ctx.Reply;
        reply.WriteMapHeader(found.Count);
        foreach (var (name, histogram) in found)
        {
            reply.WriteBulk(name);
            histogram.Write(reply);
        }
    }

    private static void AddHistograms(CommandDescriptor cmd, List<(string Name, LatencyHistogram Histogram)> found)
    {
        if (cmd.Histogram is { Total: > 0 } own)
            found.Add((cmd.Name, own));
        foreach (var (sub, histogram) in cmd.SubcommandHistograms ?? [])
            found.Add((cmd.Name + "|" + sub, histogram));
    }

    /// <summary>
    /// A chart of an event's samples, oldest on the left: one column per sample, eight rows scaled between
    /// the lowest and highest sample, then how long ago each column was (one digit and a unit, read downwards).
    /// </summary>
    internal static string Graph(string name, LatencyMonitor.EventHistory history, long now)
    {
        var samples = history.Samples.ToList();
        long high = samples.Max(s => s.Milliseconds), low = samples.Min(s => s.Milliseconds);
        var sb = new StringBuilder();
        sb.Append(name).Append(": highest ").Append(high).Append(" ms, lowest ").Append(low).Append(" ms, all-time highest ")
          .Append(history.Max).Append(" ms\n");
        sb.Append('=', Math.Max(samples.Count, 40)).Append('\n');
        const int rows = 8;
        for (int row = rows; row >= 1; row--)
        {
            foreach (var sample in samples)
            {
                // Every sample reaches the bottom row; the highest reaches the top one.
                double level = high == low ? rows : 1 + (sample.Milliseconds - low) * (rows - 1.0) / (high - low);
                sb.Append(level >= row - 0.5 ? '#' : ' ');
            }
            sb.Append('\n');
        }
        var ago = samples.Select(s => Ago(now - s.UnixSeconds)).ToList();
        for (int line = 0; line < 3; line++)
        {
            foreach (var text in ago)
                sb.Append(line < text.Length ? text[line] : ' ');
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>A time ago in at most three characters: 7s, 12m, 3h, 2d.</summary>
    private static string Ago(long seconds) => seconds switch
    {
        < 60 => Math.Max(0, seconds).ToString(CultureInfo.InvariantCulture) + "s",
        < 3600 => (seconds / 60).ToString(CultureInfo.InvariantCulture) + "m",
        < 86400 => (seconds / 3600).ToString(CultureInfo.InvariantCulture) + "h",
        _ => Math.Min(99, seconds / 86400).ToString(CultureInfo.InvariantCulture) + "d",
    };

    /// <summary>LATENCY DOCTOR's report, in psyncd's words.</summary>
    private string Doctor()
    {
        if (_options.LatencyMonitorThreshold == 0)
            return "The latency monitor is off, so there is nothing to report. Turn it on with "
                + "\"CONFIG SET latency-monitor-threshold <milliseconds>\" and ask again once the server has worked for a while.\n";
        if (_monitor.Events.Count == 0)
            return "No event took " + _options.LatencyMonitorThreshold.ToString(CultureInfo.InvariantCulture)
                + " ms or more since the monitor was turned on (or last reset): latency looks fine.\n";
        var sb = new StringBuilder("Latency spikes were recorded:\n\n");
        int n = 1;
        foreach (var (name, history) in _monitor.Events)
        {
            var samples = history.Samples.ToList();
            double average = samples.Average(s => s.Milliseconds);
            sb.Append(n++).Append(". ").Append(name).Append(": ").Append(samples.Count).Append(" spike(s), averaging ")
              .Append(average.ToString("0", CultureInfo.InvariantCulture)).Append(" ms; the worst took ").Append(history.Max).Append(" ms.\n");
        }
        sb.Append('\n');
        if (_monitor.Events.ContainsKey("command") || _monitor.Events.ContainsKey("fast-command"))
            sb.Append("- Slow commands: SLOWLOG GET names them. Commands over large collections (KEYS, SMEMBERS, LRANGE 0 -1, "
                + "SORT...) take time in proportion to their size; prefer SCAN and its kin.\n");
        if (_monitor.Events.ContainsKey("expire-cycle"))
            sb.Append("- Active expiry: many keys expiring at the same moment make the expiry cycle long; spread their TTLs.\n");
        sb.Append("- A loaded machine (other processes, swapping) delays everything: check the system's own figures too.\n");
        return sb.ToString();
    }
}
