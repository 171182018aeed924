using Psyncd.Protocol;

namespace Psyncd.Execution;

/// <summary>
/// The HELP subcommand's reply of a container command (COMMAND, SLOWLOG, MEMORY, LATENCY...), in the shape
/// redis-server 7.0's clients expect: status lines, the first naming the command and its subcommand syntax,
/// the last two describing HELP itself. The lines between are each command's own, in psyncd's words.
/// </summary>
public static class HelpReply
{
    public static void Write(ReplyWriter reply, string command, IReadOnlyList<string> lines)
    {
        reply.WriteArrayHeader(lines.Count + 3);
        reply.WriteSimpleString(command + " <subcommand> [<arg> [value] [opt] ...]. Subcommands are:");
        foreach (var line in lines)
            reply.WriteSimpleString(line);
        reply.WriteSimpleString("HELP"u8);
        reply.WriteSimpleString("    Prints this help."u8);
    }
}
