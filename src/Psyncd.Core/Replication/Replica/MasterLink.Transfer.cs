using System.Globalization;
using System.Text;
using Psyncd.Network;

namespace Psyncd.Replication.Replica;

/// <summary>The link's reads and writes before the stream starts: handshake lines, the payload, the first ACK.</summary>
public sealed partial class MasterLink
{
    private int ReplTimeoutMs => (int)Math.Min(int.MaxValue, _manager.Options.ReplTimeout * 1000L);

    private static void Send(LinkSocket socket, params string[] args)
    {
        var sb = new StringBuilder();
        sb.Append('*').Append(args.Length).Append("\r\n");
        foreach (var arg in args)
        {
            int length = Encoding.UTF8.GetByteCount(arg);
            sb.Append('$').Append(length).Append("\r\n").Append(arg).Append("\r\n");
        }
        socket.Send(Encoding.UTF8.GetBytes(sb.ToString()));
    }

    /// <summary>Reads one reply line, skipping the empty keepalive lines a master sends while it prepares.</summary>
    private string ReadReplyLine(LinkSocket socket)
    {
        while (true)
        {
            var buffered = socket.Buffered;
            int newline = buffered.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                string line = Encoding.UTF8.GetString(buffered[..newline]).TrimEnd('\r');
                socket.Consume(newline + 1);
                if (line.Length == 0)
                    continue;
                return line;
            }
            if (!Receive(socket))
                throw new IOException("Connection closed by master during the handshake");
        }
    }

    /// <summary>
    /// Reads what the master sent next (waiting at most repl-timeout); false when it closed the connection. Any byte
    /// proves it alive (Redis's repl_transfer_lastio), keepalive newlines included.
    /// </summary>
    private bool Receive(LinkSocket socket)
    {
        socket.TimeoutMs = ReplTimeoutMs;
        bool more;
        try
        {
            more = socket.Fill();
        }
        catch (TimeoutException)
        {
            throw new TimeoutException(State == MasterLinkState.Transfer ? BulkTimeoutMessage : "Timeout connecting to the MASTER...");
        }
        LastIoMs = Environment.TickCount64;
        return more;
    }

    private void ReceiveExactly(LinkSocket socket, FileStream file, long size)
    {
        long left = size;
        while (left > 0)
        {
            if (socket.Buffered.Length == 0 && !Receive(socket))
                throw new IOException("I/O error trying to sync with MASTER: connection lost");
            var take = socket.Buffered[..(int)Math.Min(left, socket.Buffered.Length)];
            file.Write(take);
            left -= take.Length;
            SyncReadBytes += take.Length;
            socket.Consume(take.Length);
        }
    }

    private void ReceiveUntilMark(LinkSocket socket, FileStream file, byte[] mark)
    {
        // Everything goes to the file; the last bytes received are compared with the mark after each read (read
        // back from the file, they would cost a flush, a seek and a read per network read).
        var tail = new byte[mark.Length];
        int tailLength = 0;
        while (true)
        {
            if (socket.Buffered.Length == 0 && !Receive(socket))
                throw new IOException("I/O error trying to sync with MASTER: connection lost");
            var chunk = socket.Buffered;
            file.Write(chunk);
            PayloadTail.Keep(tail, ref tailLength, chunk);
            SyncReadBytes += chunk.Length;
            socket.Consume(chunk.Length);
            if (tailLength == mark.Length && tail.AsSpan().SequenceEqual(mark))
            {
                file.Flush();
                file.SetLength(file.Length - mark.Length);
                return;
            }
        }
    }

    private const string BulkTimeoutMessage =
        "Timeout receiving bulk data from MASTER... If the problem persists try to set the 'repl-timeout' parameter in redis.conf to a larger value.";

    /// <summary>Writes REPLCONF ACK <paramref name="offset"/> into <paramref name="destination"/> (64 bytes are enough); returns its length.</summary>
    private static int WriteAck(Span<byte> destination, long offset)
    {
        Span<byte> digits = stackalloc byte[20];
        offset.TryFormat(digits, out int count, provider: CultureInfo.InvariantCulture);
        var head = "*3\r\n$8\r\nREPLCONF\r\n$3\r\nACK\r\n$"u8;
        head.CopyTo(destination);
        int at = head.Length;
        count.TryFormat(destination[at..], out int written, provider: CultureInfo.InvariantCulture);
        at += written;
        destination[at++] = (byte)'\r';
        destination[at++] = (byte)'\n';
        digits[..count].CopyTo(destination[at..]);
        at += count;
        destination[at++] = (byte)'\r';
        destination[at++] = (byte)'\n';
        return at;
    }
}
