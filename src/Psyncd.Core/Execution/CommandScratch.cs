using Psyncd.Storage.Types;

namespace Psyncd.Execution;

/// <summary>
/// Buffers a command reuses from one call to the next (HyperLogLog registers, a range's nodes, HSCAN's
/// slots). Handlers run one at a time inside the command loop, so the processor owns one set for the whole
/// server (<see cref="CommandContext.Scratch"/>); a [ThreadStatic] buffer kept one copy for every socket or
/// pool thread that ever ran a command. What a buffer holds is left from its last use: clear it first.
/// </summary>
public sealed class CommandScratch
{
    private byte[]? _registers;
    private byte[]? _encoded;
    private List<int>? _ints;
    private List<SortedSetObject.Node>? _nodes;
    private HyperLogLog.Editor? _hyperLogLog;

    /// <summary>A buffer of <paramref name="length"/> bytes for registers being computed (PFADD, PFCOUNT, PFMERGE).</summary>
    public byte[] Registers(int length) => _registers is { } buffer && buffer.Length == length ? buffer : _registers = new byte[length];

    /// <summary>A buffer of <paramref name="length"/> bytes for a value being encoded before it is stored.</summary>
    public byte[] Encoded(int length) => _encoded is { } buffer && buffer.Length == length ? buffer : _encoded = new byte[length];

    /// <summary>The HyperLogLog being edited (PFADD to a sparse one, PFMERGE, PFDEBUG).</summary>
    public HyperLogLog.Editor HyperLogLogEditor => _hyperLogLog ??= new HyperLogLog.Editor();

    /// <summary>A list of integers (HSCAN's slots).</summary>
    public List<int> Ints => _ints ??= new List<int>();

    /// <summary>A list of sorted set nodes (range replies whose length is known only at the end, range removals).</summary>
    internal List<SortedSetObject.Node> Nodes => _nodes ??= new List<SortedSetObject.Node>();
}
