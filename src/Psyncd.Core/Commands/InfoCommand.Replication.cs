using System.Text;
using Psyncd.Server;

namespace Psyncd.Commands;

/// <summary>INFO replication: written by the replication subsystem, from the state it works with.</summary>
internal static partial class InfoCommand
{
    private static void Replication(StringBuilder sb, PsyncdServer server)
    {
        sb.Append("# Replication\r\n");
        server.ReplicationManager.AppendInfo(sb);
    }
}
