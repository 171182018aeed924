using System.Text;
using Psyncd.Diagnostics;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Replication.Master;
using Psyncd.Text;

namespace Psyncd.Replication;

/// <summary>Replication commands: SYNC, PSYNC, REPLCONF, SLAVEOF/REPLICAOF, ROLE, WAIT.</summary>
internal sealed class ReplicationCommands
{
    private readonly ReplicationManager _manager;
    private readonly ReplicationStream _stream;
    private readonly ServerLog _log;
    private readonly ReplicationState _role;

    public ReplicationCommands(ReplicationManager manager, ReplicationStream stream, ServerLog log, ReplicationState role)
    {
        _manager = manager;
        _stream = stream;
        _log = log;
        _role = role;
    }

    public void Register(CommandTable table)
    {
        const CommandFlags admin = CommandFlags.Admin | CommandFlags.NoScript;
        table.Add("sync", 1, CommandFlags.ReadOnly | admin | CommandFlags.NoPropagate | CommandFlags.NoMulti, Sync);
        table.Add("psync", -3, CommandFlags.ReadOnly | admin | CommandFlags.NoPropagate | CommandFlags.NoMulti, Psync);
        table.Add("replconf", -1, CommandFlags.ReadOnly | admin | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.NoPropagate | CommandFlags.AllowBusy, Replconf);
        table.Add("slaveof", 3, admin | CommandFlags.Stale | CommandFlags.NoPropagate, SlaveOf);
        table.Add("replicaof", 3, admin | CommandFlags.Stale | CommandFlags.NoPropagate, SlaveOf);
        table.Add("role", 1, CommandFlags.NoScript | CommandFlags.Loading | CommandFlags.Stale | CommandFlags.Fast, Role);
        table.Add("wait", 3, CommandFlags.NoScript, Wait);
    }

    private void Sync(CommandContext ctx, in CommandArgs args)
        => _manager.HandleSync(ctx.Client, psync: false, "?", "-1");

    private void Psync(CommandContext ctx, in CommandArgs args)
    {
        if (args.Count > 4 || (args.Count == 4 && !Keyword.Is(args[3], "FAILOVER"u8)))
        {
            ctx.SyntaxError();
            return;
        }
        if (args.Count == 4)
        {
            ctx.Reply.WriteError("ERR PSYNC FAILOVER can't be sent to a master."u8);
            return;
        }
        _manager.HandleSync(ctx.Client, psync: true, Encoding.UTF8.GetString(args[1]), Encoding.UTF8.GetString(args[2]));
    }

    /// <summary>REPLCONF option value [option value ...] (Redis 7's options; ACK and GETACK have no reply).</summary>
    private void Replconf(CommandContext ctx, in CommandArgs args)
    {
        if (args.Count % 2 == 0)
        {
            ctx.SyntaxError();
            return;
        }
        var client = ctx.Client;
        var replication = _manager;
        for (int i = 1; i < args.Count; i += 2)
        {
            var option = args[i];
            var value = args[i + 1];
            if (Keyword.Is(option, "listening-port"u8))
            {
                if (!Numbers.TryParseInt64(value, out long port))
                {
                    ctx.NotInteger();
                    return;
                }
                _manager.GetOrAddLink(client).ListeningPort = (int)port;
            }
            else if (Keyword.Is(option, "ip-address"u8))
            {
                if (value.Length >= 256)
                {
                    ctx.Reply.WriteError("ERR REPLCONF ip-address provided by replica instance is too long: " + value.Length + " bytes");
                    return;
                }
                _manager.GetOrAddLink(client).AnnouncedIp = Encoding.UTF8.GetString(value);
            }
            else if (Keyword.Is(option, "capa"u8))
            {
                var link = _manager.GetOrAddLink(client);
                if (Keyword.Is(value, "eof"u8))
                    link.CapaEof = true;
                else if (Keyword.Is(value, "psync2"u8))
                    link.CapaPsync2 = true;
            }
            else if (Keyword.Is(option, "ack"u8))
            {
                // Only a replica acknowledges, and nothing is replied to an ACK.
                if (Numbers.TryParseInt64(value, out long offset))
                    replication.Ack(client, offset);
                return;
            }
            else if (Keyword.Is(option, "getack"u8))
            {
                // From our master: acknowledge at once, with the offset before this GETACK.
                if (client.Has(ClientFlags.Master))
                    replication.MasterLink?.SendAck();
                return;
            }
            else if (Keyword.Is(option, "rdb-only"u8) || Keyword.Is(option, "rdb-filter-only"u8))
            {
                ctx.Reply.WriteError("ERR Unrecognized REPLCONF option: " + Encoding.UTF8.GetString(option));
                return;
            }
            else
            {
                ctx.Reply.WriteError("ERR Unrecognized REPLCONF option: " + Encoding.UTF8.GetString(option));
                return;
            }
        }
        ctx.Reply.WriteOk();
    }

    private void SlaveOf(CommandContext ctx, in CommandArgs args)
    {
        var replication = _manager;
        if (ctx.Client.Has(ClientFlags.Replica))
        {
            ctx.Reply.WriteError("ERR Command is not valid when client is a replica."u8);
            return;
        }
        if (Keyword.Is(args[1], "NO"u8) && Keyword.Is(args[2], "ONE"u8))
        {
            if (replication.MasterLink is not null)
            {
                replication.BecomeMaster();
                _log.Notice("MASTER MODE enabled (user request from '" + ctx.Client.Describe() + "')");
            }
            ctx.Reply.WriteOk();
            return;
        }
        if (!Numbers.TryParseInt64(args[2], out long port) || port < 0 || port > 65535)
        {
            ctx.Reply.WriteError("ERR Invalid master port"u8);
            return;
        }
        string host = Encoding.UTF8.GetString(args[1]);
        if (replication.MasterLink is { } current && current.Host == host && current.Port == port)
        {
            _log.Notice("REPLICAOF would result into synchronization with the master we are already connected with. No operation performed.");
            ctx.Reply.WriteSimpleString("OK Already connected to specified master"u8);
            return;
        }
        replication.BecomeReplicaOf(host, (int)port);
        _log.Notice("REPLICAOF " + host + ":" + port + " enabled (user request from '" + ctx.Client.Describe() + "')");
        ctx.Reply.WriteOk();
    }

    private void Role(CommandContext ctx, in CommandArgs args)
    {
        var replication = _manager;
        var reply = ctx.Reply;
        if (replication.MasterLink is { } master)
        {
            reply.WriteArrayHeader(5);
            reply.WriteBulk("slave"u8);
            reply.WriteBulk(master.Host);
            reply.WriteInteger(master.Port);
            reply.WriteBulk(master.RoleState);
            reply.WriteInteger(master.MasterClient is null ? -1 : _stream.MasterReplOffset);
            return;
        }
        var online = replication.Replicas.Where(r => r.State == ReplicaState.Online).ToList();
        reply.WriteArrayHeader(3);
        reply.WriteBulk("master"u8);
        reply.WriteInteger(_stream.MasterReplOffset);
        reply.WriteArrayHeader(online.Count);
        foreach (var link in online)
        {
            reply.WriteArrayHeader(3);
            reply.WriteBulk(link.Ip);
            reply.WriteBulk(link.ListeningPort);
            reply.WriteBulk(link.AckOffset);
        }
    }

    private void Wait(CommandContext ctx, in CommandArgs args)
    {
        if (_role.IsReplica)
        {
            ctx.Reply.WriteError("ERR WAIT cannot be used with replica instances. Please also note that since Redis 4.0 if a replica is configured to be writable (which is not the default) writes to replicas are just local and are not propagated."u8);
            return;
        }
        if (!Numbers.TryParseInt64(args[1], out long needed))
        {
            ctx.NotInteger();
            return;
        }
        if (!ctx.TryParseTimeoutMs(args[2], out long timeout))
            return;
        _manager.Wait(ctx.Client, (int)Math.Min(needed, int.MaxValue), timeout);
    }
}
