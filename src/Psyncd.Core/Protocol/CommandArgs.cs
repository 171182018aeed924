using System.Runtime.CompilerServices;

namespace Psyncd.Protocol;

/// <summary>
/// The arguments of one request, argument 0 being the command name. A view over the buffer the request
/// was parsed from: valid only while the command executes, never stored (copy what must outlive it).
/// </summary>
public readonly ref struct CommandArgs
{
    private readonly ReadOnlySpan<byte> _buffer;
    private readonly ReadOnlySpan<ArgSlice> _slices;

    public CommandArgs(ReadOnlySpan<byte> buffer, ReadOnlySpan<ArgSlice> slices)
    {
        _buffer = buffer;
        _slices = slices;
    }

    /// <summary>Number of arguments, the command name included.</summary>
    public int Count => _slices.Length;

    public ReadOnlySpan<byte> this[int index]
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get
        {
            var slice = _slices[index];
            return _buffer.Slice(slice.Offset, slice.Length);
        }
    }

    /// <summary>The buffer the slices index into (used to copy a request whole, e.g. to queue it in MULTI).</summary>
    public ReadOnlySpan<byte> Buffer => _buffer;

    public ReadOnlySpan<ArgSlice> Slices => _slices;

    /// <summary>The arguments from <paramref name="start"/> on, as a request of their own.</summary>
    public CommandArgs From(int start) => new(_buffer, _slices[start..]);

    /// <summary>Copies the arguments into one new array each (for MULTI queues, blocked clients, logs).</summary>
    public byte[][] ToArrays()
    {
        var result = new byte[_slices.Length][];
        for (int i = 0; i < result.Length; i++)
            result[i] = this[i].ToArray();
        return result;
    }
}
