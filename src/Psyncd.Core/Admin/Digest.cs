using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Psyncd.Storage;
using Psyncd.Storage.Types;
using Psyncd.Text;

namespace Psyncd.Admin;

/// <summary>
/// DEBUG DIGEST and DIGEST-VALUE, computed as redis-server 7.0 computes them, so that a psyncd and a
/// redis-server holding equal data (a replica of the other, say) answer the same 40 hex digits.
/// </summary>
/// <remarks>
/// Two primitives, both over SHA-1: "xor" (digest ^= SHA1(data), order-independent) and "mix"
/// (digest = SHA1(digest ^ SHA1(data)), order-dependent). A key's digest starts at zero and mixes its name,
/// its type as a big-endian 32-bit number (Redis's OBJ_* numbering, which <see cref="ValueKind"/> follows),
/// then its value: a string's bytes mixed; a list's items mixed head to tail; a set's members xored; each
/// hash field and each sorted set member gets a digest of its own (field then value, or member then score
/// as C's "%.17g") that is xored in; a time to live xors "!!expire!!". The dataset digest mixes in each
/// non-empty database's number and xors the SHA-1 of each key's digest. Keys whose time passed but that are
/// still stored count, as they do in Redis's dictionary walk.
/// </remarks>
public static class Digest
{
    public const int Size = 20;

    public static byte[] OfKeyspace(Keyspace keyspace)
    {
        var final = new byte[Size];
        Span<byte> dbId = stackalloc byte[4];
        for (int db = 0; db < keyspace.DatabaseCount; db++)
        {
            if (keyspace.KeyCount(db) == 0)
                continue;
            BinaryPrimitives.WriteUInt32BigEndian(dbId, (uint)db);
            Mix(final, dbId);
            keyspace.ForEachKey(db, (ReadOnlySpan<byte> key, in Entry entry) =>
            {
                Span<byte> digest = stackalloc byte[Size];
                digest.Clear();
                Mix(digest, key);
                MixValue(digest, entry);
                Xor(final, digest);
            }, includeExpired: true);
        }
        return final;
    }

    /// <summary>Mixes a value's type, contents and expiry presence into <paramref name="digest"/> (DIGEST-VALUE's digest from zero).</summary>
    public static void MixValue(Span<byte> digest, in Entry entry)
    {
        Span<byte> type = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(type, (uint)entry.Kind);
        Mix(digest, type);
        Span<byte> element = stackalloc byte[Size];
        switch (entry.Kind)
        {
            case ValueKind.String:
                Mix(digest, entry.String);
                break;
            case ValueKind.List:
                foreach (var item in entry.As<ListObject>().Items)
                    Mix(digest, item);
                break;
            case ValueKind.Set:
                foreach (var member in entry.As<SetObject>().Members)
                    Xor(digest, member);
                break;
            case ValueKind.SortedSet:
                foreach (var (member, score) in entry.As<SortedSetObject>().Entries)
                {
                    element.Clear();
                    Mix(element, member);
                    Mix(element, Encoding.ASCII.GetBytes(Numbers.FormatDouble(score)));
                    Xor(digest, element);
                }
                break;
            case ValueKind.Hash:
                foreach (var pair in entry.As<HashObject>().Entries)
                {
                    element.Clear();
                    Mix(element, pair.Key);
                    Mix(element, pair.Value);
                    Xor(digest, element);
                }
                break;
        }
        if (entry.ExpireAt != -1)
            Xor(digest, "!!expire!!"u8);
    }

    /// <summary>digest = SHA1(digest XOR SHA1(data)): order-dependent mixing.</summary>
    public static void Mix(Span<byte> digest, ReadOnlySpan<byte> data)
    {
        Xor(digest, data);
        Span<byte> hash = stackalloc byte[Size];
        SHA1.HashData(digest, hash);
        hash.CopyTo(digest);
    }

    /// <summary>digest ^= SHA1(data): order-independent accumulation.</summary>
    public static void Xor(Span<byte> digest, ReadOnlySpan<byte> data)
    {
        Span<byte> hash = stackalloc byte[Size];
        SHA1.HashData(data, hash);
        for (int i = 0; i < Size; i++)
            digest[i] ^= hash[i];
    }
}
