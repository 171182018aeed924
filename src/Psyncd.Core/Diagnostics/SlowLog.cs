using Psyncd.Config;
using Psyncd.Protocol;

namespace Psyncd.Diagnostics;

/// <summary>One slow log entry, as SLOWLOG GET shows it.</summary>
public sealed record SlowLogEntry(long Id, long UnixTime, long Microseconds, byte[][] Args, string ClientAddress, string ClientName);

/// <summary>
/// Commands that took longer than <c>slowlog-log-slower-than</c> microseconds, newest first, at most
/// <c>slowlog-max-len</c> of them. Arguments are shortened as Redis shortens them: at most 32, each at
/// most 128 bytes.
/// </summary>
public sealed class SlowLog
{
    private const int MaxArgs = 32;
    private const int MaxArgLength = 128;

    private readonly ServerOptions _options;
    private readonly LinkedList<SlowLogEntry> _entries = new();
    private long _nextId;

    public SlowLog(ServerOptions options)
    {
        _options = options;
    }

    /// <summary>False when logging is off (a negative threshold).</summary>
    public bool IsEnabled => _options.SlowlogLogSlowerThan >= 0;

    public int Count => _entries.Count;

    public IEnumerable<SlowLogEntry> Entries => _entries;

    /// <summary>
    /// Logs a command that took at least slowlog-log-slower-than; the arguments whose bit is set in
    /// <paramref name="redacted"/> (passwords) are logged as "(redacted)", as Redis 7 does.
    /// </summary>
    public void Record(string clientAddress, string? clientName, in CommandArgs args, long micros, ulong redacted = 0)
    {
        if (micros < _options.SlowlogLogSlowerThan)
            return;
        int count = Math.Min(args.Count, MaxArgs);
        var saved = new byte[count][];
        for (int i = 0; i < count; i++)
        {
            if (i == MaxArgs - 1 && args.Count > MaxArgs)
            {
                saved[i] = System.Text.Encoding.ASCII.GetBytes("... (" + (args.Count - MaxArgs + 1) + " more arguments)");
                break;
            }
            if (i < 64 && (redacted & (1UL << i)) != 0)
            {
                saved[i] = "(redacted)"u8.ToArray();
                continue;
            }
            var arg = args[i];
            saved[i] = arg.Length <= MaxArgLength
                ? arg.ToArray()
                : [.. arg[..MaxArgLength], .. System.Text.Encoding.ASCII.GetBytes("... (" + (arg.Length - MaxArgLength) + " more bytes)")];
        }
        _entries.AddFirst(new SlowLogEntry(_nextId++, DateTimeOffset.UtcNow.ToUnixTimeSeconds(), micros, saved, clientAddress, clientName ?? ""));
        while (_entries.Count > _options.SlowlogMaxLen)
            _entries.RemoveLast();
    }

    public void Reset() => _entries.Clear();
}
