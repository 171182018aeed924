using Psyncd.Execution;
using Psyncd.Protocol;
using Psyncd.Text;

namespace Psyncd.Commands;

/// <summary>HRANDFIELD (Redis 6.2).</summary>
internal static partial class HashCommands
{
    /// <summary>HRANDFIELD key [count [WITHVALUES]]: random fields (see <see cref="CollectionHelpers.RandomPositions"/>).</summary>
    private static void HRandField(CommandContext ctx, in CommandArgs args)
    {
        if (!CollectionHelpers.TryParseRandomArgs(ctx, args, "WITHVALUES"u8, out bool hasCount, out long count, out bool withValues))
            return;
        var hash = ForRead(ctx, args[1], out bool wrongType);
        if (wrongType)
            return;
        var reply = ctx.Reply;
        if (hash is null)
        {
            if (hasCount)
                reply.WriteArrayHeader(0);
            else
                reply.WriteNullBulk();
            return;
        }
        // The occupied slots, so that a position picks a field.
        var slots = ctx.Scratch.Ints;
        slots.Clear();
        for (int i = 0; i < hash.SlotCount; i++)
        {
            if (hash.TryGetSlot(i, out _, out _))
                slots.Add(i);
        }
        if (!hasCount)
        {
            hash.TryGetSlot(slots[Random.Shared.Next(slots.Count)], out var only, out _);
            reply.WriteBulk(only);
            slots.Clear();
            return;
        }
        long items = count < 0 ? -count : Math.Min(count, slots.Count);
        // With values, RESP2 flattens the field/value pairs, RESP3 nests each pair.
        bool nested = withValues && reply.Resp3;
        reply.WriteArrayHeader(withValues && !nested ? items * 2 : items);
        foreach (int position in CollectionHelpers.RandomPositions(slots.Count, count))
        {
            hash.TryGetSlot(slots[position], out var field, out var value);
            if (nested)
                reply.WriteArrayHeader(2);
            reply.WriteBulk(field);
            if (withValues)
                reply.WriteBulk(value);
        }
        slots.Clear();
    }
}
