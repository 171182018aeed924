using System.Buffers.Binary;
using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Rdb;
using Psyncd.Storage;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>
/// DUMP and RESTORE: a key's value in the payload format of Redis's DUMP (RDB encoding, version, CRC64).
/// Keyspace commands, not persistence: they need the RDB format (Rdb/), not the save machinery.
/// </summary>
internal static class DumpCommands
{
    public static void Register(CommandTable table)
    {
        table.Add("dump", 2, CommandFlags.ReadOnly | CommandFlags.Random, Dump, 1, 1, 1);
        table.Add("restore", -4, CommandFlags.Write | CommandFlags.DenyOom, Restore, 1, 1, 1);
        // What a cluster's MIGRATE sends; without a cluster it is RESTORE itself (propagated under its own name).
        table.Add("restore-asking", -4, CommandFlags.Write | CommandFlags.DenyOom, Restore, 1, 1, 1);
    }

    private static void Dump(CommandContext ctx, in CommandArgs args)
    {
        var entry = ctx.Db.LookupRead(args[1]);
        if (!entry.Exists)
        {
            ctx.Reply.WriteNullBulk();
            return;
        }
        ctx.Reply.WriteBulk(DumpFormat.Write(entry, ctx.Options.RdbCompression).Written);
    }

    private static void Restore(CommandContext ctx, in CommandArgs args)
    {
        bool replace = false, absTtl = false, idleSeen = false, freqSeen = false;
        long idleSeconds = -1;
        int frequency = -1;
        for (int i = 4; i < args.Count; i++)
        {
            int additional = args.Count - i - 1;
            if (Keyword.Is(args[i], "REPLACE"u8))
            {
                replace = true;
            }
            else if (Keyword.Is(args[i], "ABSTTL"u8))
            {
                absTtl = true;
            }
            else if (Keyword.Is(args[i], "IDLETIME"u8) && additional >= 1 && !freqSeen)
            {
                if (!Numbers.TryParseInt64(args[i + 1], out long idle))
                {
                    ctx.NotInteger();
                    return;
                }
                if (idle < 0)
                {
                    ctx.Reply.WriteError("ERR Invalid IDLETIME value, must be >= 0");
                    return;
                }
                idleSeen = true;
                idleSeconds = idle;
                i++;
            }
            else if (Keyword.Is(args[i], "FREQ"u8) && additional >= 1 && !idleSeen)
            {
                if (!Numbers.TryParseInt64(args[i + 1], out long freq))
                {
                    ctx.NotInteger();
                    return;
                }
                if (freq is < 0 or > 255)
                {
                    ctx.Reply.WriteError("ERR Invalid FREQ value, must be >= 0 and <= 255");
                    return;
                }
                freqSeen = true;
                frequency = (int)freq;
                i++;
            }
            else
            {
                ctx.SyntaxError();
                return;
            }
        }

        var db = ctx.Db;
        var key = args[1];
        if (!replace && db.LookupWrite(key).Exists)
        {
            ctx.Reply.WriteError("BUSYKEY Target key name already exists.");
            return;
        }
        if (!Numbers.TryParseInt64(args[2], out long ttl))
        {
            ctx.NotInteger();
            return;
        }
        if (ttl < 0)
        {
            ctx.Reply.WriteError("ERR Invalid TTL value, must be >= 0");
            return;
        }
        var payload = args[3];
        if (!DumpFormat.Verify(payload))
        {
            ctx.Reply.WriteError("ERR DUMP payload version or checksum are wrong");
            return;
        }
        object value;
        try
        {
            var reader = new RdbReader(new MemoryStream(payload[..^10].ToArray(), writable: false));
            value = reader.ReadTypedValue();
        }
        catch (RdbCorruptException)
        {
            ctx.Reply.WriteError(ErrorReplies.BadDataFormat);
            return;
        }
        if (value is RedisObject { Count: 0 })
        {
            ctx.Reply.WriteError(ErrorReplies.BadDataFormat);
            return;
        }

        // The new record must fit before the old value goes (a full store refuses the command whole).
        ctx.Keyspace.EnsureRoomForRecords(value is byte[] bytes ? ctx.Keyspace.StringRecordBytes(key.Length, bytes.Length) : ctx.Keyspace.ObjectRecordBytes(key.Length));
        bool deleted = replace && db.LookupWrite(key).Exists && db.Delete(key);
        long expireAt = -1;
        if (ttl != 0)
        {
            expireAt = absTtl ? ttl : ttl + ctx.Keyspace.NowMs;
            if (expireAt <= ctx.Keyspace.NowMs && !ctx.IsReplica)
            {
                // Already expired: the key is not created (a replaced one stays deleted).
                if (deleted)
                {
                    var del = ctx.Propagate(2);
                    del.WriteBulk("DEL"u8);
                    del.WriteBulk(key);
                    ctx.Notify(KeyspaceEventClass.Generic, "del"u8, key);
                }
                ctx.Reply.WriteOk();
                return;
            }
        }
        if (value is byte[] text)
            db.SetString(key, text, expireAt);
        else
            db.SetObject(key, (RedisObject)value, expireAt);
        if (idleSeen || freqSeen)
            ctx.Keyspace.SetAccess(db.Index, key, idleSeconds, frequency);
        ctx.Notify(KeyspaceEventClass.Generic, "restore"u8, key);
        if (ttl != 0 && !absTtl)
        {
            // Propagated with the absolute time, as 7.0 does.
            var restore = ctx.Propagate(args.Count + 1);
            for (int i = 0; i < args.Count; i++)
            {
                if (i == 2)
                    restore.WriteBulk(expireAt);
                else
                    restore.WriteBulk(args[i]);
            }
            restore.WriteBulk("ABSTTL"u8);
        }
        ctx.Reply.WriteOk();
    }
}
