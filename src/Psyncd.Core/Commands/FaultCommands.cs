using Psyncd.Execution;
using Psyncd.Protocol;

namespace Psyncd.Commands;

/// <summary>
/// DEBUG FAIL-AFTER-SET: a command that fails the way a bug would, after it changed the dataset and began
/// its reply, so that tests can check the dispatcher's last line of defence (one error reply, the
/// connection and its queued replies kept, propagation matching what was applied). DEBUG is the place
/// for such things, as redis-server's DEBUG ASSERT and DEBUG SEGFAULT are.
/// </summary>
internal static class FaultCommands
{
    public static void Register(CommandTable table)
    {
        DebugCommands.Extensions["fail-after-set"] = FailAfterSet;
    }

    /// <summary>The exception the command throws: nothing else in the server throws it.</summary>
    public sealed class InjectedFault : Exception
    {
        public InjectedFault()
            : base("DEBUG FAIL-AFTER-SET failed on purpose")
        {
        }
    }

    /// <summary>DEBUG FAIL-AFTER-SET key value: sets the string, writes half a reply, then throws.</summary>
    private static void FailAfterSet(CommandContext ctx, in CommandArgs args)
    {
        if (args.Count != 4)
        {
            ctx.Reply.WriteError("ERR DEBUG FAIL-AFTER-SET takes a key and a value");
            return;
        }
        ctx.Db.SetString(args[2], args[3]);
        ctx.Reply.WriteArrayHeader(2);
        ctx.Reply.WriteBulk(args[3]);
        throw new InjectedFault();
    }
}
