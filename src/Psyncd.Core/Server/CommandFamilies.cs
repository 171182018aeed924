using Psyncd.Commands;
using Psyncd.Execution;

namespace Psyncd.Server;

/// <summary>The command families the server registers, in order (the composition root decides, not the table).</summary>
internal static class CommandFamilies
{
    /// <summary>
    /// Every family of commands. Each registers its commands; adding a family means adding its line here.
    /// </summary>
    public static readonly Action<CommandTable>[] All =
    {
        ConnectionCommands.Register,
        StringCommands.Register,
        KeyCommands.Register,
        ServerCommands.Register,
        InfoCommand.Register,
        ConfigCommands.Register,
        ClientCommands.Register,
        DebugCommands.Register,
        DumpCommands.Register,
        ListCommands.Register,
        HashCommands.Register,
        SetCommands.Register,
        SortedSetCommands.Register,
        SortCommand.Register,
        HyperLogLogCommands.Register,
        FaultCommands.Register,
    };
}
