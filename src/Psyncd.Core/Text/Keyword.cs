using System.Runtime.CompilerServices;
using System.Text;

namespace Psyncd.Text;

/// <summary>Keywords in arguments (NX, WITHSCORES...), compared as Redis does: ASCII, any case.</summary>
public static class Keyword
{
    /// <summary>Case-insensitive comparison of an argument with an ASCII keyword (<c>"NX"u8</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static bool Is(ReadOnlySpan<byte> arg, ReadOnlySpan<byte> keyword) => Ascii.EqualsIgnoreCase(arg, keyword);
}
