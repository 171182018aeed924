using System.Net;
using System.Net.Sockets;
using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Rdb;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>
/// MIGRATE host port key|"" destination-db timeout [COPY] [REPLACE] [AUTH password] [AUTH2 username password]
/// [KEYS key ...] (Redis's cluster.c migrateCommand): the keys go to another server as RESTOREs of their DUMP
/// payloads over a connection cached per host:port, and, without COPY, are deleted here once the target
/// acknowledged them (propagated as DEL of those keys).
/// </summary>
/// <remarks>
/// The command runs inside the loop and waits for the target with blocking socket calls, each bounded by the
/// request's timeout, exactly where redis-server blocks its event loop: connecting, writing the RESTOREs (64 KB
/// at a time), reading each reply line. Doing the transfer in the background would let other commands change or
/// delete a key between its DUMP and its deletion, breaking what MIGRATE promises (the key is moved, not copied
/// into a stale state); so the loop is held no longer than Redis holds its own, and for the same reasons. The
/// sockets are plain blocking sockets polled with poll(2), never the runtime's event thread (which is the one
/// waiting here). A target that is this server itself therefore times out, as with redis-server.
/// </remarks>
public sealed class MigrateCommand
{
    /// <summary>Connections kept at most (MIGRATE_SOCKET_CACHE_ITEMS); a new one past it closes one at random.</summary>
    private const int CachedLinks = 64;

    /// <summary>Seconds a cached connection may stay unused before the cron closes it (MIGRATE_SOCKET_CACHE_TTL).</summary>
    private const int CachedLinkTtlSeconds = 10;

    /// <summary>Bytes written per blocking write, each with the whole timeout (as Redis transfers the query).</summary>
    private const int WriteChunk = 64 * 1024;

    private readonly Dictionary<string, TargetLink> _links = new(StringComparer.Ordinal);

    public void Register(CommandTable table)
    {
        table.Add("migrate", -6, CommandFlags.Write, Migrate, 3, 3, 1);
    }

    /// <summary>Closes the connections unused for more than ten seconds (the cron's migrateCloseTimedoutSockets).</summary>
    public void CloseIdleLinks()
    {
        if (_links.Count == 0)
            return;
        long now = Environment.TickCount64;
        foreach (var (name, link) in _links.ToArray())
        {
            if ((now - link.LastUseMs) / 1000 > CachedLinkTtlSeconds)
            {
                link.Dispose();
                _links.Remove(name);
            }
        }
    }

    /// <summary>One key to send: its name, its DUMP payload and its absolute expiry (-1: none).</summary>
    private readonly record struct Outgoing(byte[] Key, byte[] Payload, long ExpireAt);

    private void Migrate(CommandContext ctx, in CommandArgs args)
    {
        bool copy = false, replace = false;
        string? username = null, password = null;
        int firstKey = 3, keyCount = 1;
        for (int j = 6; j < args.Count; j++)
        {
            int more = args.Count - 1 - j;
            var a = args[j];
            if (Keyword.Is(a, "COPY"u8))
            {
                copy = true;
            }
            else if (Keyword.Is(a, "REPLACE"u8))
            {
                replace = true;
            }
            else if (Keyword.Is(a, "AUTH"u8))
            {
                if (more < 1)
                {
                    ctx.SyntaxError();
                    return;
                }
                password = Latin1(args[++j]);
            }
            else if (Keyword.Is(a, "AUTH2"u8))
            {
                if (more < 2)
                {
                    ctx.SyntaxError();
                    return;
                }
                username = Latin1(args[++j]);
                password = Latin1(args[++j]);
            }
            else if (Keyword.Is(a, "KEYS"u8))
            {
                if (args[3].Length != 0)
                {
                    ctx.Reply.WriteError("ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"u8);
                    return;
                }
                firstKey = j + 1;
                keyCount = args.Count - j - 1;
                break;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }
        if (!Numbers.TryParseInt64(args[5], out long timeout) || !Numbers.TryParseInt64(args[4], out long dbid))
        {
            ctx.NotInteger();
            return;
        }
        if (timeout <= 0)
            timeout = 1000;
        int timeoutMs = (int)Math.Min(timeout, int.MaxValue);

        // The keys that exist now, each serialized at once (an Entry is valid only until the next write).
        var keys = new List<Outgoing>(keyCount);
        for (int j = 0; j < keyCount; j++)
        {
            var key = args[firstKey + j];
            var entry = ctx.Db.LookupRead(key);
            if (entry.Exists)
                keys.Add(new Outgoing(key.ToArray(), DumpFormat.Write(entry, ctx.Options.RdbCompression).Written.ToArray(), entry.ExpireAt));
        }
        if (keys.Count == 0)
        {
            ctx.Reply.WriteSimpleString("NOKEY"u8);
            return;
        }

        string host = Latin1(args[1]);
        int port = Atoi(args[2]);
        string name = host + ":" + Latin1(args[2]);
        bool mayRetry = true;
        while (true)
        {
            var link = GetLink(name, host, port, timeoutMs);
            if (link is null)
            {
                ctx.Reply.WriteError("IOERR error or timeout connecting to the client"u8);
                return;
            }
            var outcome = Transfer(ctx, link, keys, dbid, timeoutMs, copy, replace, username, password);
            if (outcome == Outcome.Done)
                return;
            // On any socket failure the connection goes: the next MIGRATE connects (and selects) again.
            CloseLink(name);
            if (outcome == Outcome.Replied)
                return;
            if (mayRetry && outcome is Outcome.WriteFailed or Outcome.ReadFailed)
            {
                // A cached connection the target closed meanwhile is the usual cause: one new connection, one more try.
                mayRetry = false;
                continue;
            }
            ctx.Reply.WriteError(outcome is Outcome.WriteFailed or Outcome.WriteTimedOut
                ? "IOERR error or timeout writing to target instance"u8
                : "IOERR error or timeout reading to target instance"u8);
            return;
        }
    }

    private enum Outcome
    {
        /// <summary>Replied +OK, or the target's error with the connection still usable.</summary>
        Done,

        /// <summary>The target's error was replied, then the connection failed.</summary>
        Replied,

        /// <summary>A write failed (not a timeout) before anything was acknowledged: may be retried.</summary>
        WriteFailed,

        /// <summary>A write timed out.</summary>
        WriteTimedOut,

        /// <summary>Reading the first reply failed (not a timeout): nothing was acknowledged, may be retried.</summary>
        ReadFailed,

        /// <summary>A read timed out, or failed after keys were acknowledged (those were handled): never retried.</summary>
        ReadGaveUp,
    }

    /// <summary>
    /// Sends AUTH, SELECT (when the connection's database is another) and a RESTORE per key not expired, reads the
    /// replies, deletes (without COPY) each key the target acknowledged, and replies +OK or the target's first
    /// error. A failure is returned for the caller to retry or report.
    /// </summary>
    private static Outcome Transfer(CommandContext ctx, TargetLink link, List<Outgoing> keys, long dbid, int timeoutMs, bool copy,
        bool replace, string? username, string? password)
    {
        var request = new ByteBufferWriter(1024);
        if (password is not null)
        {
            request.WriteArrayHeader(username is null ? 2 : 3);
            request.WriteBulk("AUTH"u8);
            if (username is not null)
                request.WriteBulk(username);
            request.WriteBulk(password);
        }
        bool select = link.LastDb != dbid;
        if (select)
        {
            request.WriteArrayHeader(2);
            request.WriteBulk("SELECT"u8);
            request.WriteBulk(dbid);
        }
        var sent = new List<Outgoing>(keys.Count);
        long now = ctx.Keyspace.NowMs;
        foreach (var key in keys)
        {
            long ttl = 0;
            if (key.ExpireAt != -1)
            {
                ttl = key.ExpireAt - now;
                if (ttl < 0)
                    continue;
                if (ttl < 1)
                    ttl = 1;
            }
            sent.Add(key);
            request.WriteArrayHeader(replace ? 5 : 4);
            request.WriteBulk("RESTORE"u8);
            request.WriteBulk(key.Key);
            request.WriteBulk(ttl);
            request.WriteBulk(key.Payload);
            if (replace)
                request.WriteBulk("REPLACE"u8);
        }

        var bytes = request.WrittenSpan;
        for (int pos = 0; pos < bytes.Length; pos += WriteChunk)
        {
            var result = link.Write(bytes.Slice(pos, Math.Min(WriteChunk, bytes.Length - pos)), timeoutMs);
            if (result != IoResult.Ok)
                return result == IoResult.TimedOut ? Outcome.WriteTimedOut : Outcome.WriteFailed;
        }
        string? authReply = null, selectReply = null;
        if (password is not null && link.ReadLine(timeoutMs, out authReply) is var authResult && authResult != IoResult.Ok)
            return authResult == IoResult.TimedOut ? Outcome.ReadGaveUp : Outcome.ReadFailed;
        if (select && link.ReadLine(timeoutMs, out selectReply) is var selectResult && selectResult != IoResult.Ok)
            return selectResult == IoResult.TimedOut ? Outcome.ReadGaveUp : Outcome.ReadFailed;

        bool targetError = false;
        var socketError = IoResult.Ok;
        int read = 0;
        var deleted = new List<byte[]>();
        for (; read < sent.Count; read++)
        {
            socketError = link.ReadLine(timeoutMs, out string reply);
            if (socketError != IoResult.Ok)
                break;
            string? error = authReply is ['-', ..] ? authReply : selectReply is ['-', ..] ? selectReply : reply is ['-', ..] ? reply : null;
            if (error is not null)
            {
                if (!targetError)
                {
                    // The connection's database is no longer known: the next MIGRATE selects again.
                    link.LastDb = -1;
                    targetError = true;
                    ctx.Reply.WriteError("ERR Target instance replied with error: " + error[1..]);
                }
            }
            else if (!copy)
            {
                var key = sent[read].Key;
                ctx.Db.LookupWrite(key);
                ctx.Db.Delete(key);
                ctx.Notify(KeyspaceEventClass.Generic, "del"u8, key);
                deleted.Add(key);
            }
        }
        if (!targetError && socketError == IoResult.Failed && read == 0)
            return Outcome.ReadFailed;
        if (deleted.Count > 0)
        {
            // Replicas and the log see the keys that left, as one DEL (Redis rewrites MIGRATE so).
            var del = ctx.Propagate(deleted.Count + 1);
            del.WriteBulk("DEL"u8);
            foreach (var key in deleted)
                del.WriteBulk(key);
        }
        if (socketError != IoResult.Ok)
            return targetError ? Outcome.Replied : Outcome.ReadGaveUp;
        if (!targetError)
        {
            link.LastDb = dbid;
            ctx.Reply.WriteOk();
        }
        return Outcome.Done;
    }

    private TargetLink? GetLink(string name, string host, int port, int timeoutMs)
    {
        if (_links.TryGetValue(name, out var cached))
        {
            cached.LastUseMs = Environment.TickCount64;
            return cached;
        }
        if (_links.Count == CachedLinks)
        {
            var victim = _links.ElementAt(Random.Shared.Next(_links.Count));
            victim.Value.Dispose();
            _links.Remove(victim.Key);
        }
        var link = TargetLink.Connect(host, port, timeoutMs);
        if (link is not null)
            _links[name] = link;
        return link;
    }

    private void CloseLink(string name)
    {
        if (_links.Remove(name, out var link))
            link.Dispose();
    }

    private static string Latin1(ReadOnlySpan<byte> bytes) => System.Text.Encoding.Latin1.GetString(bytes);

    /// <summary>C's atoi, as Redis reads the port: leading blanks, a sign, then digits up to the first other byte.</summary>
    private static int Atoi(ReadOnlySpan<byte> text)
    {
        int i = 0;
        while (i < text.Length && text[i] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\v' or (byte)'\f' or (byte)'\r')
            i++;
        bool negative = false;
        if (i < text.Length && text[i] is (byte)'+' or (byte)'-')
            negative = text[i++] == (byte)'-';
        long value = 0;
        for (; i < text.Length && text[i] is >= (byte)'0' and <= (byte)'9' && value < int.MaxValue; i++)
            value = value * 10 + (text[i] - '0');
        return (int)(negative ? -Math.Min(value, int.MaxValue) : Math.Min(value, int.MaxValue));
    }

    private enum IoResult
    {
        Ok,
        TimedOut,
        Failed,
    }

    /// <summary>A connection to a target, with what MIGRATE remembers of it: the database it selected.</summary>
    private sealed class TargetLink : IDisposable
    {
        private readonly Socket _socket;
        private readonly byte[] _input = new byte[4096];
        private int _start, _end;

        /// <summary>True while the non-blocking connect has neither completed nor failed (Redis goes on and lets the write wait).</summary>
        private bool _connecting;

        private TargetLink(Socket socket, bool connecting)
        {
            _socket = socket;
            _connecting = connecting;
            LastUseMs = Environment.TickCount64;
        }

        /// <summary>The database the target's connection has selected (-1: unknown, SELECT it).</summary>
        public long LastDb { get; set; } = -1;

        public long LastUseMs { get; set; }

        /// <summary>
        /// Starts a non-blocking connect and waits up to the timeout for it (connBlockingConnect). As in Redis, only
        /// a connect refused at once (or a name that does not resolve) fails here: a refusal or a timeout noticed
        /// while waiting surfaces at the first write.
        /// </summary>
        public static TargetLink? Connect(string host, int port, int timeoutMs)
        {
            IPAddress[] addresses;
            try
            {
                addresses = IPAddress.TryParse(host, out var ip) ? [ip] : Dns.GetHostAddresses(host);
            }
            catch (SocketException)
            {
                return null;
            }
            catch (ArgumentException)
            {
                return null;
            }
            if (port is < 0 or > 65535)
                return null;
            foreach (var address in addresses)
            {
                var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { Blocking = false, NoDelay = true };
                try
                {
                    socket.Connect(address, port);
                    return new TargetLink(socket, connecting: false);
                }
                catch (SocketException e) when (e.SocketErrorCode is SocketError.WouldBlock or SocketError.InProgress or SocketError.AlreadyInProgress)
                {
                    var link = new TargetLink(socket, connecting: true);
                    link.WaitConnected(timeoutMs);
                    return link;
                }
                catch (SocketException)
                {
                    socket.Dispose();
                }
            }
            return null;
        }

        /// <summary>Waits for the connect to end; true when it succeeded, false on failure or timeout (<paramref name="timedOut"/>).</summary>
        private bool WaitConnected(int timeoutMs) => WaitConnected(timeoutMs, out _);

        private bool WaitConnected(int timeoutMs, out bool timedOut)
        {
            timedOut = false;
            if (!_connecting)
                return true;
            if (!_socket.Poll(checked(timeoutMs * 1000L) > int.MaxValue ? int.MaxValue : timeoutMs * 1000, SelectMode.SelectWrite)
                && !_socket.Poll(0, SelectMode.SelectError))
            {
                timedOut = true;
                return false;
            }
            _connecting = false;
            return (int)_socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.Error)! == 0;
        }

        /// <summary>Writes all of <paramref name="data"/> within the timeout.</summary>
        public IoResult Write(ReadOnlySpan<byte> data, int timeoutMs)
        {
            try
            {
                if (_connecting && !WaitConnected(timeoutMs, out bool timedOut))
                    return timedOut ? IoResult.TimedOut : IoResult.Failed;
                long deadline = Environment.TickCount64 + timeoutMs;
                while (!data.IsEmpty)
                {
                    int n = _socket.Send(data, SocketFlags.None, out var error);
                    if (error == SocketError.WouldBlock)
                    {
                        long left = deadline - Environment.TickCount64;
                        if (left <= 0 || !_socket.Poll((int)Math.Min(left * 1000, int.MaxValue), SelectMode.SelectWrite))
                            return IoResult.TimedOut;
                        continue;
                    }
                    if (error != SocketError.Success)
                        return IoResult.Failed;
                    data = data[n..];
                }
                return IoResult.Ok;
            }
            catch (SocketException)
            {
                return IoResult.Failed;
            }
            catch (ObjectDisposedException)
            {
                return IoResult.Failed;
            }
        }

        /// <summary>
        /// Reads one reply line (without its CR LF) within the timeout of each byte's arrival, as syncReadLine;
        /// like Redis's 1 KB buffer, at most 1023 bytes of it are kept.
        /// </summary>
        public IoResult ReadLine(int timeoutMs, out string line)
        {
            line = "";
            var text = new List<byte>();
            try
            {
                while (true)
                {
                    if (_start == _end)
                    {
                        if (!_socket.Poll((int)Math.Min(timeoutMs * 1000L, int.MaxValue), SelectMode.SelectRead))
                            return IoResult.TimedOut;
                        int n = _socket.Receive(_input, SocketFlags.None, out var error);
                        if (error == SocketError.WouldBlock)
                            continue;
                        if (error != SocketError.Success || n == 0)
                            return IoResult.Failed;
                        _start = 0;
                        _end = n;
                    }
                    byte b = _input[_start++];
                    if (b == (byte)'\n')
                        break;
                    if (text.Count < 1023)
                        text.Add(b);
                }
            }
            catch (SocketException)
            {
                return IoResult.Failed;
            }
            catch (ObjectDisposedException)
            {
                return IoResult.Failed;
            }
            if (text.Count > 0 && text[^1] == (byte)'\r')
                text.RemoveAt(text.Count - 1);
            line = System.Text.Encoding.Latin1.GetString(text.ToArray());
            return IoResult.Ok;
        }

        public void Dispose() => _socket.Dispose();
    }
}
