using System.Globalization;
using System.Text;

namespace Psyncd.Execution;

/// <summary>A client as CLIENT LIST shows it, one line; also what redis-server logs when it closes one.</summary>
public static class ClientListFormat
{
    /// <summary>One CLIENT LIST line (without the newline).</summary>
    public static string Line(Client client)
    {
        long now = Environment.TickCount64;
        var sb = new StringBuilder(256);
        sb.Append("id=").Append(Num(client.Id))
          .Append(" addr=").Append(client.Address)
          .Append(" laddr=").Append(client.LocalAddress)
          .Append(" fd=").Append(Num(client.Fd))
          .Append(" name=").Append(client.Name ?? "")
          .Append(" age=").Append(Num((now - client.CreatedAtMs) / 1000))
          .Append(" idle=").Append(Num((now - client.LastInteractionMs) / 1000))
          .Append(" flags=").Append(Flags(client))
          .Append(" db=").Append(Num(client.Db))
          .Append(" sub=").Append(Num(client.SubscriptionCount - client.PatternSubscriptionCount))
          .Append(" psub=").Append(Num(client.PatternSubscriptionCount))
          .Append(" ssub=0")
          .Append(" multi=").Append(Num(client.MultiQueue?.Count ?? -1))
          .Append(" qbuf=").Append(Num(client.QueryBufferBytes))
          .Append(" qbuf-free=0")
          .Append(" argv-mem=0")
          .Append(" multi-mem=0")
          .Append(" rbs=0 rbp=0")
          .Append(" obl=0")
          .Append(" oll=0")
          .Append(" omem=").Append(Num(client.Output.UnsentBytes))
          .Append(" tot-mem=").Append(Num(client.QueryBufferBytes + client.Output.UnsentBytes))
          .Append(" events=").Append(client.Output.IsEmpty ? "r" : "rw")
          .Append(" cmd=").Append(client.LastCommand)
          // Redis's master client has no ACL user: it runs as the superuser.
          .Append(" user=").Append(client.Has(ClientFlags.Master) ? "(superuser)" : "default")
          .Append(" redir=-1 resp=").Append(client.Protocol);
        return sb.ToString();
    }

    private static string Num(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The flag letters in redis-server's order; N when there are none.</summary>
    private static string Flags(Client client)
    {
        var sb = new StringBuilder(4);
        if (client.Has(ClientFlags.Monitor))
            sb.Append('O');
        else if (client.Has(ClientFlags.Replica))
            sb.Append('S');
        if (client.Has(ClientFlags.Master))
            sb.Append('M');
        if (client.SubscriptionCount > 0)
            sb.Append('P');
        if (client.Has(ClientFlags.Multi) || client.MultiQueue is not null)
            sb.Append('x');
        if (client.Has(ClientFlags.Blocked))
            sb.Append('b');
        if (client.Has(ClientFlags.DirtyCas))
            sb.Append('d');
        if (client.Has(ClientFlags.CloseAfterReply))
            sb.Append('c');
        if (client.Has(ClientFlags.Unblocked))
            sb.Append('u');
        if (client.Has(ClientFlags.CloseAsap))
            sb.Append('A');
        if (client.IsUnixSocket)
            sb.Append('U');
        return sb.Length == 0 ? "N" : sb.ToString();
    }
}
