using System.Buffers.Binary;
using System.Runtime.CompilerServices;

namespace Psyncd.Text;

/// <summary>
/// Random bytes from the operating system's /dev/urandom, as redis-server reads them: for hash seeds and
/// the 40-character ids (run id, replication id).
/// </summary>
/// <remarks>
/// Not <see cref="System.Security.Cryptography.RandomNumberGenerator"/> first: on Linux it goes through
/// OpenSSL, and loading libcrypto, libssl and the cryptography assembly for a few bytes at startup cost
/// 5 MB of every server's RSS (docs/memory.md). It stays the fallback where /dev/urandom cannot be read.
/// </remarks>
public static class OsRandom
{
    public static void Fill(Span<byte> bytes)
    {
        try
        {
            using var urandom = new FileStream("/dev/urandom", FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            urandom.ReadExactly(bytes);
            return;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            // Not a Unix system, or a sandbox without /dev: below.
        }
        FillFromCryptography(bytes);
    }

    /// <summary><paramref name="bytes"/> random bytes as lowercase hex (2 characters a byte).</summary>
    public static string Hex(int bytes)
    {
        Span<byte> buffer = stackalloc byte[bytes];
        Fill(buffer);
        return Convert.ToHexString(buffer).ToLowerInvariant();
    }

    public static ulong UInt64()
    {
        Span<byte> buffer = stackalloc byte[8];
        Fill(buffer);
        return BinaryPrimitives.ReadUInt64LittleEndian(buffer);
    }

    // A method of its own, never inlined: compiling Fill must not load the cryptography assembly.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void FillFromCryptography(Span<byte> bytes) => System.Security.Cryptography.RandomNumberGenerator.Fill(bytes);
}
