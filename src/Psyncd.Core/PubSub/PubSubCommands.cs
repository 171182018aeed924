using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Text;

namespace Psyncd.PubSub;

/// <summary>
/// Pub/sub: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB. A client with subscriptions is
/// in subscribed mode (<see cref="Client.SubscriptionCount"/>), where the dispatcher allows only the commands
/// flagged <see cref="CommandFlags.AllowedWhileSubscribed"/>.
/// </summary>
internal sealed class PubSubCommands
{
    private readonly PubSubRegistry _pubSub;
    private readonly ReplicationState _role;

    public PubSubCommands(PubSubRegistry pubSub, ReplicationState role)
    {
        _pubSub = pubSub;
        _role = role;
    }

    public void Register(CommandTable table)
    {
        const CommandFlags Subscription = CommandFlags.PubSub | CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.AllowedWhileSubscribed;
        table.Add("subscribe", -2, Subscription, Subscribe);
        table.Add("unsubscribe", -1, Subscription, Unsubscribe);
        table.Add("psubscribe", -2, Subscription, PSubscribe);
        table.Add("punsubscribe", -1, Subscription, PUnsubscribe);
        // A master propagates PUBLISH, so that its replicas' subscribers get the messages too.
        table.Add("publish", 3, CommandFlags.PubSub | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast | CommandFlags.AlwaysPropagate, Publish);
        table.Add("pubsub", -2, CommandFlags.PubSub | CommandFlags.Random | CommandFlags.Loading | CommandFlags.Stale, PubSub);
        table.AddSubcommands("pubsub", ("numpat", 2), ("numsub", -2), ("help", 2), ("channels", -2), ("shardnumsub", -2), ("shardchannels", -2));
    }

    private void Subscribe(CommandContext ctx, in CommandArgs args)
    {
        var registry = _pubSub;
        var client = ctx.Client;
        for (int i = 1; i < args.Count; i++)
        {
            registry.SubscribeChannel(client, args[i]);
            WriteConfirmation(ctx.Reply, "subscribe"u8, args[i], client.SubscriptionCount);
        }
    }

    private void PSubscribe(CommandContext ctx, in CommandArgs args)
    {
        var registry = _pubSub;
        var client = ctx.Client;
        for (int i = 1; i < args.Count; i++)
        {
            registry.SubscribePattern(client, args[i]);
            WriteConfirmation(ctx.Reply, "psubscribe"u8, args[i], client.SubscriptionCount);
        }
    }

    /// <summary>UNSUBSCRIBE [channel...]: without channels, from all of them (a nil channel when there were none).</summary>
    private void Unsubscribe(CommandContext ctx, in CommandArgs args)
    {
        var client = ctx.Client;
        if (args.Count > 1)
        {
            var registry = _pubSub;
            for (int i = 1; i < args.Count; i++)
            {
                registry.UnsubscribeChannel(client, args[i]);
                WriteConfirmation(ctx.Reply, "unsubscribe"u8, args[i], client.SubscriptionCount);
            }
            return;
        }
        if (client.SubscribedChannels is not { Count: > 0 } channels)
        {
            WriteNoneConfirmation(ctx.Reply, "unsubscribe"u8, client.SubscriptionCount);
            return;
        }
        var all = _pubSub;
        foreach (var channel in channels.ToArray())
        {
            all.UnsubscribeChannel(client, channel);
            WriteConfirmation(ctx.Reply, "unsubscribe"u8, channel, client.SubscriptionCount);
        }
    }

    /// <summary>PUNSUBSCRIBE [pattern...]: without patterns, from all of them, in subscription order.</summary>
    private void PUnsubscribe(CommandContext ctx, in CommandArgs args)
    {
        var client = ctx.Client;
        if (args.Count > 1)
        {
            var registry = _pubSub;
            for (int i = 1; i < args.Count; i++)
            {
                registry.UnsubscribePattern(client, args[i]);
                WriteConfirmation(ctx.Reply, "punsubscribe"u8, args[i], client.SubscriptionCount);
            }
            return;
        }
        if (client.SubscribedPatterns is not { Count: > 0 } patterns)
        {
            WriteNoneConfirmation(ctx.Reply, "punsubscribe"u8, client.SubscriptionCount);
            return;
        }
        var all = _pubSub;
        foreach (var pattern in patterns.ToArray())
        {
            all.UnsubscribePattern(client, pattern);
            WriteConfirmation(ctx.Reply, "punsubscribe"u8, pattern, client.SubscriptionCount);
        }
    }

    private void Publish(CommandContext ctx, in CommandArgs args)
    {
        var registry = _pubSub;
        long receivers = registry is null ? 0 : registry.Publish(args[1], args[2]);
        ctx.Reply.WriteInteger(receivers);
        // A replica's stream carries its master's bytes only: a message published by one of its own
        // clients stays local, as in Redis (the master link's PUBLISH is forwarded as received).
        if (_role.IsReplica && !ctx.Client.Has(ClientFlags.Master))
            ctx.PreventPropagation();
    }

    /// <summary>PUBSUB CHANNELS [pattern] | NUMSUB [channel...] | NUMPAT | HELP, with Redis 7's replies and errors.</summary>
    private void PubSub(CommandContext ctx, in CommandArgs args)
    {
        var sub = args[1];
        var registry = _pubSub;
        if (Keyword.Is(sub, "CHANNELS"u8))
        {
            if (args.Count > 3)
            {
                ctx.Reply.WriteError("ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.");
                return;
            }
            if (registry is null)
            {
                ctx.Reply.WriteArrayHeader(0);
                return;
            }
            var channels = registry.ActiveChannels(args.Count == 3 ? args[2].ToArray() : null);
            ctx.Reply.WriteArrayHeader(channels.Count);
            foreach (var channel in channels)
                ctx.Reply.WriteBulk(channel);
            return;
        }
        if (Keyword.Is(sub, "NUMSUB"u8))
        {
            ctx.Reply.WriteArrayHeader(2L * (args.Count - 2));
            for (int i = 2; i < args.Count; i++)
            {
                ctx.Reply.WriteBulk(args[i]);
                ctx.Reply.WriteInteger(registry?.SubscriberCount(args[i]) ?? 0);
            }
            return;
        }
        // NUMPAT's and HELP's arities were checked by the dispatcher (declared in Register).
        if (Keyword.Is(sub, "NUMPAT"u8))
        {
            ctx.Reply.WriteInteger(registry?.PatternCount ?? 0);
            return;
        }
        if (Keyword.Is(sub, "HELP"u8))
        {
            HelpReply.Write(ctx.Reply, "PUBSUB", s_help);
            return;
        }
        ctx.Reply.WriteError(ErrorReplies.UnknownSubcommand(sub, "PUBSUB"));
    }

    private static readonly string[] s_help =
    {
        "CHANNELS [<pattern>]",
        "    Answer the channels with at least one subscriber, those matching the glob <pattern> if given.",
        "NUMPAT",
        "    Answer how many pattern subscriptions exist, over all clients.",
        "NUMSUB [<channel> ...]",
        "    Answer each <channel> with its count of subscribers (pattern subscriptions not counted).",
    };

    private static void WriteConfirmation(ReplyWriter reply, ReadOnlySpan<byte> kind, ReadOnlySpan<byte> name, int count)
    {
        reply.WritePushHeader(3);
        reply.WriteBulk(kind);
        reply.WriteBulk(name);
        reply.WriteInteger(count);
    }

    private static void WriteNoneConfirmation(ReplyWriter reply, ReadOnlySpan<byte> kind, int count)
    {
        reply.WritePushHeader(3);
        reply.WriteBulk(kind);
        reply.WriteNullBulk();
        reply.WriteInteger(count);
    }
}
