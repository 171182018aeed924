using System.Buffers.Binary;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Text;

namespace Psyncd.Persistence;

/// <summary>Persistence commands: SAVE, BGSAVE, LASTSAVE, and DEBUG RELOAD (a subcommand of DEBUG).</summary>
internal sealed class PersistenceCommands
{
    private readonly RdbPersistence _persistence;
    private readonly AppendOnlyFile _aof;

    public PersistenceCommands(RdbPersistence persistence, AppendOnlyFile aof)
    {
        _persistence = persistence;
        _aof = aof;
    }

    public void Register(CommandTable table)
    {
        table.Add("save", 1, CommandFlags.Admin | CommandFlags.NoScript | CommandFlags.NoMulti, Save);
        table.Add("bgsave", -1, CommandFlags.Admin | CommandFlags.NoScript, Bgsave);
        table.Add("bgrewriteaof", 1, CommandFlags.Admin | CommandFlags.NoScript, BgRewriteAof);
        table.Add("lastsave", 1, CommandFlags.Random | CommandFlags.Fast | CommandFlags.Loading | CommandFlags.Stale, LastSave);
    }

    /// <summary>BGSAVE's handler, for the warm-up to compile ahead (<see cref="RdbPersistence.BgsaveMethods"/>).</summary>
    internal static System.Reflection.MethodBase BgsaveHandler
        => typeof(PersistenceCommands).GetMethod(nameof(Bgsave), System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.NonPublic)!;

    private void Save(CommandContext ctx, in CommandArgs args)
    {
        string? error = _persistence.SaveForeground();
        if (error is null)
            ctx.Reply.WriteOk();
        else
            ctx.Reply.WriteError(error);
    }

    private void Bgsave(CommandContext ctx, in CommandArgs args)
    {
        if (args.Count > 2 || (args.Count == 2 && !Keyword.Is(args[1], "SCHEDULE"u8)))
        {
            ctx.SyntaxError();
            return;
        }
        string? error = _persistence.StartBgsave();
        if (error is null)
            ctx.Reply.WriteSimpleString("Background saving started"u8);
        else
            ctx.Reply.WriteError(error);
    }

    /// <summary>BGREWRITEAOF, with redis-server 7.0's replies.</summary>
    private void BgRewriteAof(CommandContext ctx, in CommandArgs args)
    {
        switch (_aof.StartRewrite(ctx.InExec))
        {
            case RewriteStart.AlreadyRunning:
                ctx.Reply.WriteError("ERR Background append only file rewriting already in progress"u8);
                break;
            case RewriteStart.Scheduled:
                ctx.Reply.WriteSimpleString("Background append only file rewriting scheduled"u8);
                break;
            default:
                ctx.Reply.WriteSimpleString("Background append only file rewriting started"u8);
                break;
        }
    }

    private void LastSave(CommandContext ctx, in CommandArgs args) => ctx.Reply.WriteInteger(_persistence.LastSaveTime);

    /// <summary>DEBUG RELOAD and DEBUG LOADAOF (subcommands of the DEBUG family).</summary>
    public void DebugSubcommand(CommandContext ctx, in CommandArgs args)
    {
        bool reload = Keyword.Is(args[1], "RELOAD"u8);
        if (reload || Keyword.Is(args[1], "LOADAOF"u8))
        {
            string? error = reload ? _persistence.DebugReload() : _aof.DebugLoadAof();
            if (error is null)
                ctx.Reply.WriteOk();
            else
                ctx.Reply.WriteError(error);
            return;
        }
        ctx.Reply.WriteError("ERR unknown subcommand '" + System.Text.Encoding.UTF8.GetString(args[1]) + "'. Try DEBUG HELP.");
    }
}
