using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>The sorted set commands of Redis 6.2 and 7.0.</summary>
internal static partial class SortedSetCommands
{
    private static void RegisterRedis7(CommandTable table)
    {
        table.Add("zmpop", -4, CommandFlags.Write, ZMPop);
    }
}
