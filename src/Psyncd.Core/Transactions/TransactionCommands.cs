using Psyncd.Execution;
using Psyncd.Protocol;

namespace Psyncd.Transactions;

/// <summary>
/// Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH. The dispatcher queues commands while
/// <see cref="Client.MultiQueue"/> is set and flags <see cref="ClientFlags.DirtyExec"/> when one is refused;
/// EXEC runs the queue through <see cref="CommandProcessor.RunTransaction"/>.
/// </summary>
internal sealed class TransactionCommands
{
    private readonly WatchRegistry _watches;
    private readonly CommandProcessor _processor;

    public TransactionCommands(WatchRegistry watches, CommandProcessor processor)
    {
        _watches = watches;
        _processor = processor;
    }

    public void Register(CommandTable table)
    {
        const CommandFlags Common = CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.NoPropagate;
        table.Add("multi", 1, Common | CommandFlags.Fast | CommandFlags.NotQueued | CommandFlags.AllowBusy, Multi);
        // EXEC is shown to MONITOR after the commands it ran, as Redis 7 does (see Exec).
        table.Add("exec", 1, Common | CommandFlags.SkipSlowlog | CommandFlags.NotQueued, Exec);
        table.Add("discard", 1, Common | CommandFlags.Fast | CommandFlags.NotQueued | CommandFlags.AllowBusy, Discard);
        table.Add("watch", -2, Common | CommandFlags.Fast | CommandFlags.NotQueued | CommandFlags.AllowBusy, Watch, 1, -1, 1);
        // Redis queues UNWATCH inside MULTI (it is harmless there: EXEC unwatches anyway).
        table.Add("unwatch", 1, Common | CommandFlags.Fast | CommandFlags.AllowBusy, Unwatch);
    }

    private void Multi(CommandContext ctx, in CommandArgs args)
    {
        var client = ctx.Client;
        if (client.MultiQueue is not null)
        {
            ctx.Reply.WriteError("ERR MULTI calls can not be nested"u8);
            return;
        }
        client.MultiQueue = new List<QueuedCommand>();
        client.Flags |= ClientFlags.Multi;
        ctx.Reply.WriteOk();
    }

    private void Exec(CommandContext ctx, in CommandArgs args)
    {
        var client = ctx.Client;
        var queue = client.MultiQueue;
        var self = ctx.Command;
        if (queue is null)
        {
            ctx.Reply.WriteError("ERR EXEC without MULTI"u8);
            return;
        }
        if (_watches.Count > 0 && _watches.AnyWatchedKeyExpired(client))
            client.Flags |= ClientFlags.DirtyCas;
        if (client.Has(ClientFlags.DirtyExec))
        {
            EndTransaction(ctx);
            ctx.Reply.WriteError(ErrorReplies.ExecAbort);
            return;
        }
        if (client.Has(ClientFlags.DirtyCas))
        {
            EndTransaction(ctx);
            ctx.Reply.WriteNullArray();
            return;
        }
        // What changed since the commands were queued (the server became a read-only replica, memory ran
        // out...) refuses the whole transaction, as Redis's processCommand does for EXEC.
        if (!client.Has(ClientFlags.Master))
        {
            foreach (var queued in queue)
            {
                if (!queued.Command.Has(CommandFlags.Write) && !queued.Command.Has(CommandFlags.DenyOom))
                    continue;
                var refusal = CheckQueued(client, queued);
                if (!refusal.IsEmpty)
                {
                    EndTransaction(ctx);
                    ctx.Reply.WriteError(ErrorReplies.ExecAbortBecause(refusal));
                            return;
                }
            }
        }
        EndTransaction(ctx);
        ctx.Reply.WriteArrayHeader(queue.Count);
        _processor.RunTransaction(ctx, queue, static _ => { });
        ctx.Command = self;
    }

    private void Discard(CommandContext ctx, in CommandArgs args)
    {
        if (ctx.Client.MultiQueue is null)
        {
            ctx.Reply.WriteError("ERR DISCARD without MULTI"u8);
            return;
        }
        EndTransaction(ctx);
        ctx.Reply.WriteOk();
    }

    private void Watch(CommandContext ctx, in CommandArgs args)
    {
        var client = ctx.Client;
        if (client.MultiQueue is not null)
        {
            ctx.Reply.WriteError("ERR WATCH inside MULTI is not allowed"u8);
            return;
        }
        // Once dirty, EXEC fails whatever happens: watching more keys would only cost memory.
        if (!client.Has(ClientFlags.DirtyCas))
        {
            var watches = _watches;
            for (int i = 1; i < args.Count; i++)
                watches.Watch(client, client.Db, args[i]);
        }
        ctx.Reply.WriteOk();
    }

    private void Unwatch(CommandContext ctx, in CommandArgs args)
    {
        var client = ctx.Client;
        if (client.WatchedKeys is not null)
            _watches.UnwatchAll(client);
        client.Flags &= ~ClientFlags.DirtyCas;
        ctx.Reply.WriteOk();
    }

    /// <summary>Leaves MULTI: forgets the queue, the transaction's flags and every WATCH (Redis's discardTransaction).</summary>
    private void EndTransaction(CommandContext ctx)
    {
        var client = ctx.Client;
        client.MultiQueue = null;
        client.Flags &= ~(ClientFlags.Multi | ClientFlags.DirtyCas | ClientFlags.DirtyExec);
        if (client.WatchedKeys is not null)
            _watches.UnwatchAll(client);
    }

    private ReadOnlySpan<byte> CheckQueued(Client client, QueuedCommand queued)
    {
        return _processor.CheckAllowed(client, queued.Command, queued.ToArgs());
    }
}
