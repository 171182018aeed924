using System.Globalization;
using System.Text;
using Psyncd.Config;

namespace Psyncd.Diagnostics;

/// <summary>
/// The server log, in redis-server's line format: <c>pid:role dd Mon yyyy hh:mm:ss.mmm L message</c>,
/// where role is M (master) or S (replica) and L is the level mark (<c>.</c> debug, <c>-</c> verbose,
/// <c>*</c> notice, <c>#</c> warning). Lines go to standard output or to <c>logfile</c>, each flushed as
/// it is written. Safe to call from any thread.
/// </summary>
public sealed class ServerLog : IDisposable
{
    private readonly object _gate = new();
    private readonly TextWriter _writer;
    private readonly bool _ownsWriter;
    private readonly int _pid = Environment.ProcessId;

    public ServerLog(string logFile, LogLevel level)
    {
        Level = level;
        if (string.IsNullOrEmpty(logFile))
        {
            _writer = Console.Out;
        }
        else
        {
            var stream = new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite);
            _writer = new StreamWriter(stream, new UTF8Encoding(false)) { AutoFlush = true };
            _ownsWriter = true;
        }
    }

    /// <summary>Lines below this level are dropped (<c>loglevel</c>, changeable with CONFIG SET).</summary>
    public LogLevel Level { get; set; }

    /// <summary>Role mark of each line: 'M' for a master, 'S' for a replica.</summary>
    public char Role { get; set; } = 'M';

    public bool IsEnabled(LogLevel level) => level >= Level;

    public void Debug(string message) => Write(LogLevel.Debug, message);

    public void Verbose(string message) => Write(LogLevel.Verbose, message);

    public void Notice(string message) => Write(LogLevel.Notice, message);

    public void Warning(string message) => Write(LogLevel.Warning, message);

    public void Write(LogLevel level, string message)
    {
        if (level < Level)
            return;
        var now = DateTime.Now;
        char mark = level switch
        {
            LogLevel.Debug => '.',
            LogLevel.Verbose => '-',
            LogLevel.Notice => '*',
            _ => '#',
        };
        string line = string.Create(CultureInfo.InvariantCulture, $"{_pid}:{Role} {now:dd MMM yyyy HH:mm:ss.fff} {mark} {message}");
        lock (_gate)
        {
            try
            {
                _writer.WriteLine(line);
                _writer.Flush();
            }
            catch (IOException)
            {
                // Nowhere left to report a failing log; the server keeps running, as redis-server does.
            }
            catch (ObjectDisposedException)
            {
                // Logged after shutdown closed the file.
            }
        }
    }

    public void Dispose()
    {
        if (_ownsWriter)
        {
            lock (_gate)
                _writer.Dispose();
        }
    }
}
