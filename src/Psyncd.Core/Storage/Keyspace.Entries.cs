using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace Psyncd.Storage;

/// <summary>Reading and writing keys: the operations commands are built from.</summary>
public sealed unsafe partial class Keyspace
{
    // ------------------------------------------------------------------
    // Lookups
    // ------------------------------------------------------------------

    /// <summary>
    /// Looks a key up for reading (Redis's lookupKeyRead): a key past its time to live is handled per
    /// <see cref="ExpiryMode"/>; hits and misses are counted; the access time is recorded.
    /// </summary>
    public Entry LookupRead(int db, ReadOnlySpan<byte> key)
    {
        if (!TryReadLive(db, key, out var record))
        {
            KeyspaceMisses++;
            Observer?.KeyMissed(db, key);
            return default;
        }
        KeyspaceHits++;
        TouchLru(record);
        return MakeEntry(record);
    }

    /// <summary>
    /// As <see cref="LookupRead"/> without recording an access (Redis's LOOKUP_NOTOUCH): EXISTS, TYPE, TTL read
    /// a key's metadata without making it recently or frequently used.
    /// </summary>
    public Entry LookupReadNoTouch(int db, ReadOnlySpan<byte> key)
    {
        if (!TryReadLive(db, key, out var record))
        {
            KeyspaceMisses++;
            Observer?.KeyMissed(db, key);
            return default;
        }
        KeyspaceHits++;
        return MakeEntry(record);
    }

    /// <summary>
    /// Looks a key up before writing it (Redis's lookupKeyWrite): expiry is handled as for reads, no hit
    /// or miss is counted, and while a snapshot runs the value is first preserved for it.
    /// </summary>
    public Entry LookupWrite(int db, ReadOnlySpan<byte> key)
    {
        Journal(db, key);
        if (!TryReadLive(db, key, out var record))
            return default;
        if (_snapshot is not null)
            record = PreserveForSnapshot(db, key, record);
        TouchLru(record);
        return MakeEntry(record);
    }

    /// <summary>Looks a key up without side effects (no expiry handling, no statistics): for SCAN, DEBUG, RDB.</summary>
    public Entry Peek(int db, ReadOnlySpan<byte> key)
    {
        if (!TryReadRecord(db, key, out var record))
            return default;
        return MakeEntry(record);
    }

    /// <summary>True when the key exists and is visible (expiry handled as for reads, no statistics).</summary>
    public bool Exists(int db, ReadOnlySpan<byte> key) => TryReadLive(db, key, out _);

    /// <summary>Seconds since the key was last read or written (OBJECT IDLETIME).</summary>
    public long IdleSeconds(in Entry entry) => IdleSeconds(entry.Lru);

    /// <summary>Reads the record and applies expiry; false when the key is missing or counts as missing.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReadLive(int db, ReadOnlySpan<byte> key, out RecordRef record)
    {
        if (!TryReadRecord(db, key, out record))
            return false;
        if (ValueLayout.HasExpiry(record.Value) && ExpiryMode != ExpiryMode.Ignore && NowMs > ValueLayout.ExpireAt(record.Value))
            return !ExpireKey(db, key, record);
        return true;
    }

    /// <summary>Handles a key found past its expiry; returns true when it must be reported missing.</summary>
    private bool ExpireKey(int db, ReadOnlySpan<byte> key, RecordRef record)
    {
        if (ExpiryMode == ExpiryMode.Hide)
            return true;
        // Copy the key first: observers may write to the keyspace, which reuses the key buffer.
        Span<byte> copy = key.Length <= 256 ? stackalloc byte[key.Length] : new byte[key.Length];
        key.CopyTo(copy);
        DeleteExisting(db, copy, record);
        ExpiredKeys++;
        Observer?.KeyExpired(db, copy);
        return true;
    }

    private Entry MakeEntry(RecordRef record)
    {
        byte* value = record.Value;
        var kind = ValueLayout.Kind(value);
        long expireAt = ValueLayout.ExpireAt(value);
        int lru = ValueLayout.Lru(value);
        int lengthOrHandle = ValueLayout.LengthOrHandle(value);
        if (kind == ValueKind.String)
        {
            if (ValueLayout.IsHeapString(value))
                return new Entry(record, kind, expireAt, ((HeapString)_heap.Get(lengthOrHandle)).Value, null, lru);
            var inline = new ReadOnlySpan<byte>(value + ValueLayout.PayloadOffset(value), lengthOrHandle);
            return new Entry(record, kind, expireAt, inline, null, lru);
        }
        return new Entry(record, kind, expireAt, default, (RedisObject)_heap.Get(lengthOrHandle), lru);
    }

    // ------------------------------------------------------------------
    // Strings
    // ------------------------------------------------------------------

    /// <summary>
    /// Sets a string value, replacing whatever the key held. The time to live becomes
    /// <paramref name="expireAt"/> (-1: none) unless <paramref name="keepTtl"/>.
    /// </summary>
    public void SetString(int db, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAt = -1, bool keepTtl = false)
    {
        bool existed = TryReadRecord(db, key, out var record);
        if (existed && _snapshot is not null)
            record = PreserveForSnapshot(db, key, record);
        WriteString(db, key, value, expireAt, keepTtl, existed, record);
    }

    /// <summary>As <see cref="SetString(int, ReadOnlySpan{byte}, ReadOnlySpan{byte}, long, bool)"/> for a key just looked up with <see cref="LookupWrite"/>.</summary>
    public void SetString(int db, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, in Entry current, long expireAt = -1, bool keepTtl = false,
        StringEncodingHint hint = StringEncodingHint.ByContent)
        => WriteString(db, key, value, expireAt, keepTtl, current.Exists, current.Record, hint);

    private void WriteString(int db, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, long expireAt, bool keepTtl, bool existed, RecordRef record,
        StringEncodingHint hint = StringEncodingHint.ByContent)
    {
        Journal(db, key);
        EnsureRoom(RecordSize(key.Length, ValueLayout.InlineSize(Math.Min(value.Length, MaxInlineStringLength), true)));
        long oldExpire = existed ? ValueLayout.ExpireAt(record.Value) : -1;
        long newExpire = keepTtl ? oldExpire : expireAt;
        bool heap = value.Length > MaxInlineStringLength;
        int size = heap ? ValueLayout.InlineSize(0, newExpire >= 0) : ValueLayout.InlineSize(value.Length, newExpire >= 0);

        if (existed)
        {
            // A heap string being replaced by another heap string keeps its slot.
            if (heap && ValueLayout.Kind(record.Value) == ValueKind.String && ValueLayout.IsHeapString(record.Value))
            {
                int handle = ValueLayout.LengthOrHandle(record.Value);
                var heapString = (HeapString)_heap.Get(handle);
                heapString.Resize(value.Length);
                value.CopyTo(heapString.Data);
                WriteHandleRecord(db, key, ValueKind.String, true, handle, newExpire, record, existed);
                FinishWrite(db, key, existed, oldExpire, newExpire);
                return;
            }
            ReleaseValue(record);
        }

        if (heap)
        {
            int handle = _heap.Add(new HeapString(value, value.Length));
            WriteHandleRecord(db, key, ValueKind.String, true, handle, newExpire, record, existed);
        }
        else if (existed && record.Capacity >= size && record.Address >= _store.Log.ReadOnlyAddress)
        {
            int offset = ValueLayout.WriteHeader(record.Value, ValueKind.String, false, newExpire, value.Length, AccessFieldReplacing(existed, record), hint);
            value.CopyTo(new Span<byte>(record.Value + offset, value.Length));
        }
        else
        {
            byte* prepared = PrepareValue(size);
            int offset = ValueLayout.WriteHeader(prepared, ValueKind.String, false, newExpire, value.Length, AccessFieldReplacing(existed, record), hint);
            value.CopyTo(new Span<byte>(prepared + offset, value.Length));
            UpsertPrepared(db, key, size, existed, record);
        }
        FinishWrite(db, key, existed, oldExpire, newExpire);
    }

    /// <summary>
    /// Makes OBJECT ENCODING say "raw" of a string looked up for writing, without counting a change (no
    /// dirty count, no observers): Redis's dbUnshareStringValue, which HyperLogLog commands call even when
    /// they change nothing. Done in place; a record in the log's read-only region keeps its hint.
    /// </summary>
    public void MarkStringRaw(in Entry current)
    {
        var record = current.Record;
        if (current.EncodingHint != StringEncodingHint.Raw && record.Address >= _store.Log.ReadOnlyAddress)
            ValueLayout.SetEncodingHint(record.Value, StringEncodingHint.Raw);
    }

    /// <summary>
    /// Resizes the string at <paramref name="key"/> to <paramref name="length"/> bytes (creating it when
    /// missing; new bytes are zero; existing bytes kept) and returns its bytes for the caller to modify.
    /// The key must be missing or hold a string (checked by the caller with <see cref="LookupWrite"/>).
    /// The span is valid until the next write to the keyspace. The time to live is kept.
    /// </summary>
    public Span<byte> ResizeString(int db, ReadOnlySpan<byte> key, int length, in Entry current, StringEncodingHint hint = StringEncodingHint.ByContent)
    {
        Debug.Assert(!current.Exists || current.Kind == ValueKind.String);
        Journal(db, key);
        bool existed = current.Exists;
        var record = current.Record;
        EnsureRoom(RecordSize(key.Length, ValueLayout.InlineSize(Math.Min(length * 2, MaxInlineStringLength), true)));
        long expire = existed ? ValueLayout.ExpireAt(record.Value) : -1;
        int oldLength = existed ? current.String.Length : 0;

        if (existed && ValueLayout.IsHeapString(record.Value))
        {
            var heapString = (HeapString)_heap.Get(ValueLayout.LengthOrHandle(record.Value));
            var span = heapString.Resize(length);
            FinishWrite(db, key, true, expire, expire);
            return span;
        }

        if (length > MaxInlineStringLength)
        {
            // Outgrows the record: move to the heap, with room to keep growing.
            var heapString = new HeapString(current.String, Math.Max(length, oldLength * 2));
            var span = heapString.Resize(length);
            int handle = _heap.Add(heapString);
            WriteHandleRecord(db, key, ValueKind.String, true, handle, expire, record, existed);
            FinishWrite(db, key, existed, expire, expire);
            return span;
        }

        int size = ValueLayout.InlineSize(length, expire >= 0);
        byte* target;
        if (existed && record.Capacity >= size && record.Address >= _store.Log.ReadOnlyAddress)
        {
            target = record.Value;
            *(int*)(target + 4) = length;
            ValueLayout.SetLru(target, AccessFieldReplacing(true, record));
            ValueLayout.SetEncodingHint(target, hint);
        }
        else
        {
            // Grow with spare room, as Redis's sds does, so that repeated APPENDs stay in place.
            int capacity = existed ? Math.Max(size, ValueLayout.InlineSize(Math.Min(length * 2, MaxInlineStringLength), expire >= 0)) : size;
            byte* prepared = PrepareValue(capacity);
            int payload = ValueLayout.WriteHeader(prepared, ValueKind.String, false, expire, length, AccessFieldReplacing(existed, record), hint);
            if (existed)
                current.String[..Math.Min(oldLength, length)].CopyTo(new Span<byte>(prepared + payload, length));
            target = UpsertPrepared(db, key, capacity, existed, record).Value;
        }
        int offset = ValueLayout.PayloadOffset(target);
        var result = new Span<byte>(target + offset, length);
        if (length > oldLength)
            result[oldLength..].Clear();
        FinishWrite(db, key, existed, expire, expire);
        return result;
    }

    // ------------------------------------------------------------------
    // Collections
    // ------------------------------------------------------------------

    /// <summary>
    /// Stores a collection at <paramref name="key"/>, replacing whatever it held. The time to live is
    /// cleared unless <paramref name="keepTtl"/>. The object must not be empty.
    /// </summary>
    public void SetObject(int db, ReadOnlySpan<byte> key, RedisObject value, long expireAt = -1, bool keepTtl = false)
    {
        Debug.Assert(value.Count > 0, "empty collections are never stored");
        Journal(db, key);
        EnsureRoom(RecordSize(key.Length, ValueLayout.InlineSize(0, true)));
        bool existed = TryReadRecord(db, key, out var record);
        if (existed && _snapshot is not null)
            record = PreserveForSnapshot(db, key, record);
        long oldExpire = existed ? ValueLayout.ExpireAt(record.Value) : -1;
        long newExpire = keepTtl ? oldExpire : expireAt;
        if (existed)
            ReleaseValue(record);
        int handle = _heap.Add(value);
        WriteHandleRecord(db, key, value.Kind, false, handle, newExpire, record, existed);
        FinishWrite(db, key, existed, oldExpire, newExpire);
    }

    /// <summary>
    /// Records that the collection at <paramref name="key"/> (looked up with <see cref="LookupWrite"/>) was
    /// changed in place: counts <paramref name="changes"/> toward the dirty counter and tells observers.
    /// A collection left empty must be deleted instead.
    /// </summary>
    public void Modified(int db, ReadOnlySpan<byte> key, long changes = 1)
    {
        Journal(db, key);
        Dirty += changes;
        Observer?.KeyModified(db, key);
    }

    // ------------------------------------------------------------------
    // Keys
    // ------------------------------------------------------------------

    /// <summary>Deletes a key; false when it did not exist. Expiry is not considered (DEL of an expired key deletes it).</summary>
    public bool Delete(int db, ReadOnlySpan<byte> key)
    {
        if (!TryReadRecord(db, key, out var record))
            return false;
        DeleteExisting(db, key, record);
        Dirty++;
        Observer?.KeyModified(db, key);
        return true;
    }

    private void DeleteExisting(int db, ReadOnlySpan<byte> key, RecordRef record)
    {
        Journal(db, key);
        EnsureRoom(RecordSize(key.Length, ValueLayout.InlineSize(0, true)), forDeletion: true);
        if (_snapshot is not null)
            record = PreserveForSnapshot(db, key, record);
        if (ValueLayout.HasExpiry(record.Value))
            _expiries[db].Remove(key);
        ReleaseValue(record);
        _liveBytes -= RecordSize(key.Length, record.Capacity);
        DeleteRecord(db, key);
        _keyCounts[db]--;
    }

    /// <summary>Sets the absolute expiry (unix ms) of an existing key; false when the key does not exist.</summary>
    public bool SetExpire(int db, ReadOnlySpan<byte> key, long expireAt)
    {
        Debug.Assert(expireAt >= 0);
        if (!TryReadRecord(db, key, out var record))
            return false;
        if (_snapshot is not null)
            record = PreserveForSnapshot(db, key, record);
        ChangeExpiry(db, key, record, expireAt);
        return true;
    }

    /// <summary>Removes the time to live of a key; false when the key does not exist or had none.</summary>
    public bool Persist(int db, ReadOnlySpan<byte> key)
    {
        if (!TryReadRecord(db, key, out var record) || !ValueLayout.HasExpiry(record.Value))
            return false;
        if (_snapshot is not null)
            record = PreserveForSnapshot(db, key, record);
        ChangeExpiry(db, key, record, -1);
        return true;
    }

    private void ChangeExpiry(int db, ReadOnlySpan<byte> key, RecordRef record, long expireAt)
    {
        Journal(db, key);
        byte* value = record.Value;
        EnsureRoom(RecordSize(key.Length, record.Capacity + ValueLayout.ExpirySize));
        long oldExpire = ValueLayout.ExpireAt(value);
        var kind = ValueLayout.Kind(value);
        bool heapString = ValueLayout.IsHeapString(value);
        int lengthOrHandle = ValueLayout.LengthOrHandle(value);
        int payloadLength = kind == ValueKind.String && !heapString ? lengthOrHandle : 0;
        int oldOffset = ValueLayout.PayloadOffset(value);
        int size = ValueLayout.InlineSize(payloadLength, expireAt >= 0);
        var hint = ValueLayout.EncodingHint(value);

        if ((oldExpire >= 0) == (expireAt >= 0) && record.Address >= _store.Log.ReadOnlyAddress)
        {
            if (expireAt >= 0)
                *(long*)(value + ValueLayout.HeaderSize) = expireAt;
        }
        else if (record.Capacity >= size && record.Address >= _store.Log.ReadOnlyAddress)
        {
            // Move the payload to make room for, or close the gap of, the expiry field.
            var payload = new Span<byte>(value + oldOffset, payloadLength);
            int newOffset = ValueLayout.HeaderSize + (expireAt >= 0 ? ValueLayout.ExpirySize : 0);
            payload.CopyTo(new Span<byte>(value + newOffset, payloadLength));
            ValueLayout.WriteHeader(value, kind, heapString, expireAt, lengthOrHandle, ValueLayout.Lru(value), hint);
        }
        else
        {
            byte* prepared = PrepareValue(size);
            int newOffset = ValueLayout.WriteHeader(prepared, kind, heapString, expireAt, lengthOrHandle, ValueLayout.Lru(value), hint);
            new ReadOnlySpan<byte>(value + oldOffset, payloadLength).CopyTo(new Span<byte>(prepared + newOffset, payloadLength));
            UpsertPrepared(db, key, size, true, record);
        }
        FinishWrite(db, key, true, oldExpire, expireAt);
    }

    /// <summary>
    /// Moves the value of (<paramref name="srcDb"/>, <paramref name="srcKey"/>) to (<paramref name="dstDb"/>,
    /// <paramref name="dstKey"/>), replacing the destination, keeping the time to live (RENAME, MOVE).
    /// False when the source does not exist.
    /// </summary>
    public bool Rename(int srcDb, ReadOnlySpan<byte> srcKey, int dstDb, ReadOnlySpan<byte> dstKey)
    {
        if (!TryReadRecord(srcDb, srcKey, out var source))
            return false;
        Journal(srcDb, srcKey);
        Journal(dstDb, dstKey);
        EnsureRoom(RecordSize(srcKey.Length, 16) + RecordSize(dstKey.Length, source.Capacity));
        if (_snapshot is not null)
            source = PreserveForSnapshot(srcDb, srcKey, source);
        // Copy the source value out before touching the destination (which reuses the key buffer).
        int size = ValueLayout.InlineSize(0, false) + (ValueLayout.HasExpiry(source.Value) ? ValueLayout.ExpirySize : 0);
        bool inline = ValueLayout.Kind(source.Value) == ValueKind.String && !ValueLayout.IsHeapString(source.Value);
        if (inline)
            size += ValueLayout.LengthOrHandle(source.Value);
        var saved = new byte[size];
        new ReadOnlySpan<byte>(source.Value, size).CopyTo(saved);
        long expire = ValueLayout.ExpireAt(source.Value);

        // Remove the source record, keeping its heap object (it moves with the value).
        if (expire >= 0)
            _expiries[srcDb].Remove(srcKey);
        _liveBytes -= RecordSize(srcKey.Length, source.Capacity);
        DeleteRecord(srcDb, srcKey);
        _keyCounts[srcDb]--;
        Observer?.KeyModified(srcDb, srcKey);

        bool dstExisted = TryReadRecord(dstDb, dstKey, out var destination);
        long oldExpire = -1;
        if (dstExisted)
        {
            if (_snapshot is not null)
                destination = PreserveForSnapshot(dstDb, dstKey, destination);
            oldExpire = ValueLayout.ExpireAt(destination.Value);
            ReleaseValue(destination);
        }
        byte* prepared = PrepareValue(size);
        saved.CopyTo(new Span<byte>(prepared, size));
        if (!IsLfu)
            ValueLayout.SetLru(prepared, LruClock);
        UpsertPrepared(dstDb, dstKey, size, dstExisted, destination);
        // Redis deletes a destination that exists and adds the key anew: "new" either way.
        FinishWrite(dstDb, dstKey, dstExisted, oldExpire, expire, added: true);
        return true;
    }

    // ------------------------------------------------------------------
    // Shared steps of writes
    // ------------------------------------------------------------------

    /// <summary>Writes a record whose payload is a heap handle.</summary>
    private void WriteHandleRecord(int db, ReadOnlySpan<byte> key, ValueKind kind, bool heapString, int handle, long expireAt, RecordRef existing, bool existed)
    {
        int size = ValueLayout.InlineSize(0, expireAt >= 0);
        int access = AccessFieldReplacing(existed, existing);
        if (existed && existing.Capacity >= size && existing.Address >= _store.Log.ReadOnlyAddress)
        {
            ValueLayout.WriteHeader(existing.Value, kind, heapString, expireAt, handle, access);
            return;
        }
        byte* prepared = PrepareValue(size);
        ValueLayout.WriteHeader(prepared, kind, heapString, expireAt, handle, access);
        UpsertPrepared(db, key, size, existed, existing);
    }

    /// <summary>Frees the heap object a record refers to, if any.</summary>
    private void ReleaseValue(RecordRef record)
    {
        byte* value = record.Value;
        if (ValueLayout.Kind(value) != ValueKind.String || ValueLayout.IsHeapString(value))
            _heap.Free(ValueLayout.LengthOrHandle(value));
    }

    /// <summary>Counts, expiry index, dirty counter and observers after a key was written.</summary>
    private void FinishWrite(int db, ReadOnlySpan<byte> key, bool existed, long oldExpire, long newExpire, bool added = false)
    {
        if (!existed)
        {
            _keyCounts[db]++;
            if (--_addsBeforeIndexCheck <= 0)
                GrowIndexIfCrowded();
        }
        if ((!existed || added) && !Loading)
            Observer?.KeyAdded(db, key);
        if (oldExpire >= 0 && newExpire < 0)
            _expiries[db].Remove(key);
        else if (newExpire >= 0 && oldExpire < 0)
            _expiries[db].Add(key);
        Dirty++;
        Observer?.KeyModified(db, key);
    }
}
