namespace Psyncd.Storage;

/// <summary>
/// One database of the keyspace (what SELECT chooses): the keyspace's operations with the database
/// index filled in. A cheap value; commands get one from their context.
/// </summary>
public readonly struct Database
{
    private readonly Keyspace _keyspace;

    public Database(Keyspace keyspace, int index)
    {
        _keyspace = keyspace;
        Index = index;
    }

    public int Index { get; }

    public Keyspace Keyspace => _keyspace;

    public Entry LookupRead(ReadOnlySpan<byte> key) => _keyspace.LookupRead(Index, key);

    public Entry LookupReadNoTouch(ReadOnlySpan<byte> key) => _keyspace.LookupReadNoTouch(Index, key);

    public Entry LookupWrite(ReadOnlySpan<byte> key) => _keyspace.LookupWrite(Index, key);

    public Entry Peek(ReadOnlySpan<byte> key) => _keyspace.Peek(Index, key);

    public bool Exists(ReadOnlySpan<byte> key) => _keyspace.Exists(Index, key);

    public void SetString(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAt = -1, bool keepTtl = false)
        => _keyspace.SetString(Index, key, value, expireAt, keepTtl);

    public void SetString(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, in Entry current, long expireAt = -1, bool keepTtl = false,
        StringEncodingHint hint = StringEncodingHint.ByContent)
        => _keyspace.SetString(Index, key, value, in current, expireAt, keepTtl, hint);

    public void MarkStringRaw(in Entry current) => _keyspace.MarkStringRaw(current);

    public Span<byte> ResizeString(ReadOnlySpan<byte> key, int length, in Entry current, StringEncodingHint hint = StringEncodingHint.ByContent)
        => _keyspace.ResizeString(Index, key, length, in current, hint);

    public void SetObject(ReadOnlySpan<byte> key, RedisObject value, long expireAt = -1, bool keepTtl = false)
        => _keyspace.SetObject(Index, key, value, expireAt, keepTtl);

    public void Modified(ReadOnlySpan<byte> key, long changes = 1) => _keyspace.Modified(Index, key, changes);

    public bool Delete(ReadOnlySpan<byte> key) => _keyspace.Delete(Index, key);

    public bool SetExpire(ReadOnlySpan<byte> key, long expireAtMs) => _keyspace.SetExpire(Index, key, expireAtMs);

    public bool Persist(ReadOnlySpan<byte> key) => _keyspace.Persist(Index, key);

    public long KeyCount => _keyspace.KeyCount(Index);

    public long ExpiresCount => _keyspace.ExpiresCount(Index);
}
