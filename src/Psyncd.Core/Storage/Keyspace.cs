using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using FASTER.core;
using Psyncd.Config;

namespace Psyncd.Storage;

/// <summary>Sizes of the FASTER store behind the keyspace.</summary>
/// <param name="LogMemoryBytes">Most memory the record log may use (a power of two).</param>
/// <param name="PageBytes">Size of one log page (a power of two); no record may exceed it.</param>
/// <param name="IndexBytes">Initial size of the hash index (64 bytes per bucket); it doubles as keys are added.</param>
public sealed record StoreSettings(long LogMemoryBytes, long PageBytes, long IndexBytes)
{
    /// <summary>Settings for small stores (tests).</summary>
    public static StoreSettings Small => new(64L << 20, 1L << 20, 1L << 20);
}

/// <summary>A write was refused because the record log is full and compaction could not free room.</summary>
public sealed class StoreFullException : Exception
{
    public StoreFullException()
        : base("the record log is full")
    {
    }
}

/// <summary>
/// The keyspace: all 16 (or <c>databases</c>) databases, held in one FASTER key-value store. This class is
/// the only door to FASTER; commands reach it through <see cref="Database"/> views.
/// </summary>
/// <remarks>
/// <para>
/// Threading: used only inside the command loop. The loop's enter and exit hooks call
/// <see cref="EnterLoop"/> and <see cref="ExitLoop"/>, which hold FASTER's epoch for the batch, so each
/// operation runs without its own epoch bookkeeping (FASTER's unsafe context).
/// </para>
/// <para>
/// No silent loss: FASTER evicts records below its in-memory head when the log outgrows its memory, and
/// with no disk behind the log they would be gone. The keyspace therefore never lets the log reach that
/// size: every write checks the room left first (<see cref="EnsureRoom"/>), compacts the oldest part of the
/// log when garbage can be reclaimed, and otherwise refuses the write with <see cref="StoreFullException"/>
/// (an OOM error to the client). <see cref="VerifyNoEviction"/> checks the invariant after each batch.
/// </para>
/// <para>
/// Values: strings up to <see cref="MaxInlineStringLength"/> live inline in the record; larger strings and
/// every collection live in the <see cref="ObjectHeap"/> and the record holds a handle. See
/// <see cref="ValueLayout"/> for the bytes.
/// </para>
/// </remarks>
public sealed unsafe partial class Keyspace : IDisposable
{
    private readonly StoreSettings _settings;
    private readonly int _databases;
    private readonly StoreFunctions _functions = new();

    // The store generation: FLUSHALL replaces all of these at once (a running snapshot keeps the old ones).
    private FasterKV<SpanByte, SpanByte> _store = null!;
    private ClientSession<SpanByte, SpanByte, SpanByte, RecordRef, Empty, StoreFunctions> _session = null!;
    private ObjectHeap _heap = null!;
    private long[] _keyCounts = null!;
    private ExpiryIndex[] _expiries = null!;

    /// <summary>Pinned scratch for building keys ([4-byte length][db][key]) and values.</summary>
    private byte* _keyBuffer;
    private int _keyBufferSize;
    private byte* _valueBuffer;
    private int _valueBufferSize;

    /// <summary>Bytes of log taken by live records (approximate); the rest of <see cref="LogBytes"/> is garbage for compaction.</summary>
    private long _liveBytes;

    /// <summary>True while this thread holds FASTER's epoch for the current loop batch.</summary>
    private bool _inEpoch;

    /// <summary>Log bytes that may be used before FASTER would start evicting (see <see cref="EnsureRoom"/>).</summary>
    private readonly long _usableLogBytes;

    /// <summary>Room kept for deletions: other writes are refused before the log is this close to full.</summary>
    private readonly long _writeReserve;

    /// <summary>
    /// Keys per bucket of the hash index, on average, beyond which the index doubles. A bucket has seven
    /// slots; past them FASTER chains overflow buckets that every lookup in the bucket walks, and at four
    /// on average few buckets overflow.
    /// </summary>
    private const int KeysPerIndexBucket = 4;

    /// <summary>Keys that may still be added before the index's crowding is checked again (<see cref="GrowIndexIfCrowded"/>).</summary>
    private long _addsBeforeIndexCheck;

    /// <param name="settings">Sizes of the store.</param>
    /// <param name="databases">Number of databases.</param>
    /// <param name="options">The server's options, read live (maxmemory policy, LFU parameters); defaults when null.</param>
    public Keyspace(StoreSettings settings, int databases, ServerOptions? options = null)
    {
        if (databases is < 1 or > 256)
            throw new ArgumentOutOfRangeException(nameof(databases));
        _options = options ?? new ServerOptions();
        _settings = settings;
        _databases = databases;
        // FASTER starts moving its head once the log spans its buffer minus one page; two pages of margin
        // leave room for the page a record may skip to.
        long pages = settings.LogMemoryBytes / settings.PageBytes;
        _usableLogBytes = (pages - 3) * settings.PageBytes;
        _writeReserve = Math.Max(settings.PageBytes, _usableLogBytes / 64);
        MaxInlineStringLength = (int)Math.Min(16 * 1024, settings.PageBytes / 8);
        EnsureKeyBuffer(256);
        EnsureValueBuffer(1024);
        CreateGeneration();
    }

    /// <summary>Number of databases (SELECT accepts 0 to this minus one).</summary>
    public int DatabaseCount => _databases;

    /// <summary>Strings longer than this live in the object heap rather than inline in their record.</summary>
    public int MaxInlineStringLength { get; }

    /// <summary>Count of changes since the server started (Redis's server.dirty), for save points and propagation.</summary>
    public long Dirty { get; set; }

    /// <summary>
    /// The time commands see, in unix milliseconds. The command processor sets it before each command so
    /// that one command sees one instant (as Redis 7 does); outside commands it is refreshed by
    /// <see cref="RefreshTime"/>.
    /// </summary>
    public long NowMs { get; set; } = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>How lookups treat keys whose time to live has passed.</summary>
    public ExpiryMode ExpiryMode { get; set; } = ExpiryMode.Delete;

    /// <summary>Told about every change to a key, and about keys deleted because they expired.</summary>
    public IKeyspaceObserver? Observer { get; set; }

    /// <summary>
    /// True while an RDB loads into this keyspace: the keys it adds are not reported as added (Redis's
    /// dbAddRDBLoad publishes no "new" event).
    /// </summary>
    public bool Loading { get; set; }

    public long KeyspaceHits { get; set; }

    public long KeyspaceMisses { get; set; }

    public long ExpiredKeys { get; set; }

    public Database this[int db] => new(this, db);

    public void RefreshTime() => NowMs = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    /// <summary>Sets <see cref="NowMs"/> from a clock the caller already read (<see cref="DateTime.Ticks"/> of UTC).</summary>
    public void SetTime(long utcTicks) => NowMs = (utcTicks - DateTime.UnixEpoch.Ticks) / TimeSpan.TicksPerMillisecond;

    /// <summary>
    /// 24-bit clock of seconds, stored in records for OBJECT IDLETIME and the LRU policies: the command's time
    /// (<see cref="NowMs"/>, read once per command), as Redis's cached LRU clock, rather than a clock read for every key
    /// a command touches (an MSET read it twenty times). The LFU minutes come from the same time.
    /// </summary>
    internal int LruClock => (int)((NowMs / 1000) & ValueLayout.LruClockMax);

    /// <summary>Seconds since a record with clock <paramref name="lru"/> was last accessed.</summary>
    internal long IdleSeconds(int lru)
    {
        int now = LruClock;
        return now >= lru ? now - lru : ValueLayout.LruClockMax - lru + now;
    }

    // ------------------------------------------------------------------
    // Generations and the loop's epoch
    // ------------------------------------------------------------------

    private void CreateGeneration()
    {
        var settings = new FasterKVSettings<SpanByte, SpanByte>
        {
            IndexSize = _settings.IndexBytes,
            LogDevice = new NullDevice(),
            ObjectLogDevice = new NullDevice(),
            PageSize = _settings.PageBytes,
            MemorySize = _settings.LogMemoryBytes,
            // Everything in memory is mutable; a snapshot or a compaction makes a range read-only explicitly.
            MutableFraction = 1.0,
            ConcurrencyControlMode = ConcurrencyControlMode.None,
        };
        _store = new FasterKV<SpanByte, SpanByte>(settings);
        _session = _store.For(_functions).NewSession<StoreFunctions>();
        _addsBeforeIndexCheck = _store.IndexSize * KeysPerIndexBucket;
        _heap = new ObjectHeap();
        // One slot more than the databases while the database byte allows it: SwapDatabases parks keys there.
        int slots = Math.Min(_databases + 1, 256);
        _keyCounts = new long[slots];
        _expiries = new ExpiryIndex[slots];
        for (int i = 0; i < slots; i++)
            _expiries[i] = new ExpiryIndex();
    }

    /// <summary>Called as the loop is entered: holds FASTER's epoch for the batch.</summary>
    public void EnterLoop()
    {
        Debug.Assert(!_inEpoch);
        _session.UnsafeContext.BeginUnsafe();
        _inEpoch = true;
        RefreshTime();
    }

    /// <summary>Called as the loop is left: releases FASTER's epoch.</summary>
    public void ExitLoop()
    {
        Debug.Assert(_inEpoch);
        VerifyNoEviction();
        _session.UnsafeContext.EndUnsafe();
        _inEpoch = false;
    }

    /// <summary>
    /// Runs <paramref name="action"/> outside the epoch (FASTER operations that manage their own, like
    /// compaction), from inside the loop.
    /// </summary>
    private void OutsideEpoch(Action action)
    {
        bool wasInEpoch = _inEpoch;
        if (wasInEpoch)
        {
            _session.UnsafeContext.EndUnsafe();
            _inEpoch = false;
        }
        try
        {
            action();
        }
        finally
        {
            if (wasInEpoch)
            {
                _session.UnsafeContext.BeginUnsafe();
                _inEpoch = true;
            }
        }
    }

    // ------------------------------------------------------------------
    // Counts and memory
    // ------------------------------------------------------------------

    /// <summary>Keys in database <paramref name="db"/> (DBSIZE), expired-but-not-yet-deleted keys included, as in Redis.</summary>
    public long KeyCount(int db) => _keyCounts[db];

    /// <summary>Keys with a time to live in database <paramref name="db"/>.</summary>
    public long ExpiresCount(int db) => _expiries[db].Count;

    /// <summary>Bytes of log in use (live records and not yet compacted garbage).</summary>
    public long LogBytes => _store.Log.TailAddress - _store.Log.BeginAddress;

    /// <summary>Bytes of the record log's pages allocated in memory (live records, garbage and room not used yet).</summary>
    public long LogMemoryBytes => _store.Log.MemorySizeBytes;

    /// <summary>Bytes of the record log holding live records.</summary>
    public long LiveBytes => _liveBytes;

    /// <summary>
    /// Store memory given up so far, which the collector frees later: the old store's log pages and index at
    /// FLUSHALL, the index a growth replaced.
    /// </summary>
    public long ReleasedLogBytes { get; private set; }

    /// <summary>Bytes of log that may be used before writes are refused.</summary>
    public long LogCapacity => _usableLogBytes;

    /// <summary>Bytes of the hash index (64 per bucket), overflow buckets aside.</summary>
    public long IndexBytes => _store.IndexSize * 64;

    /// <summary>
    /// Doubles the hash index when the keys outgrow it (<see cref="KeysPerIndexBucket"/>), so that the index
    /// starts small (an empty server, or one holding a few large collections, does not carry an index sized
    /// for millions of keys: 16 MB of it before, all counted in used_memory) and lookups stay one bucket
    /// long as the keyspace grows. Called when <see cref="_addsBeforeIndexCheck"/> runs out: deletions only
    /// lower the count, so the index cannot be crowded before then.
    /// </summary>
    private void GrowIndexIfCrowded() => GrowIndexFor(0);

    /// <summary>
    /// Inside the loop, before <paramref name="keys"/> keys are added (a load's RESIZEDB): grows the index once to
    /// the size those keys will need, rather than doubling it again and again as they arrive. Each doubling splits
    /// every bucket and its keys (150-250 ms at 1M keys, the last of the doublings a load of 1M keys did); an index
    /// still empty splits in a few ms. The index ends as large as the keys' arrival would have made it.
    /// </summary>
    public void ExpectKeys(long keys) => GrowIndexFor(Math.Max(0, keys));

    /// <summary>Doubles the index until it holds the keys there are and <paramref name="more"/>.</summary>
    private void GrowIndexFor(long more)
    {
        long keys = 0;
        foreach (long count in _keyCounts)
            keys += count;
        long limit = _store.IndexSize * KeysPerIndexBucket;
        while (keys + more > limit)
        {
            long before = IndexBytes;
            // FASTER refuses to grow from a thread that holds the epoch; the doubling splits every bucket
            // at once (a few ms per 100k keys), outside any operation, as compaction runs.
            bool grown = false;
            OutsideEpoch(() => grown = _store.GrowIndex());
            if (!grown)
                break;
            ReleasedLogBytes += before;
            limit = _store.IndexSize * KeysPerIndexBucket;
        }
        _addsBeforeIndexCheck = Math.Max(1, limit - keys);
    }

    /// <summary>Collections and large strings held in the object heap.</summary>
    public int HeapObjects => _heap.Count;

    /// <summary>
    /// Checks, before a write changes anything, that up to <paramref name="bytes"/> bytes of records can be
    /// appended without the log outgrowing memory; throws <see cref="StoreFullException"/> otherwise.
    /// Deletions may use the reserve kept back from other writes, so that memory can always be freed.
    /// </summary>
    private void EnsureRoom(long bytes, bool forDeletion = false)
    {
        long limit = forDeletion ? _usableLogBytes : _usableLogBytes - _writeReserve;
        if (LogBytes + bytes + _settings.PageBytes > limit)
            throw new StoreFullException();
    }

    /// <summary>
    /// Refuses now (<see cref="StoreFullException"/>), before a command changes anything, new records of
    /// <paramref name="bytes"/> in all that would not fit. For commands that write several records (MSET) or
    /// change a value in place before they write a record (SMOVE, RPOPLPUSH, RESTORE REPLACE): a full store
    /// then refuses them whole instead of half-way. Twice the room is asked, since a record that does not
    /// fit at the end of a page starts the next one.
    /// </summary>
    public void EnsureRoomForRecords(long bytes) => EnsureRoom(2 * bytes);

    /// <summary>Log bytes of the record of a string value (see <see cref="EnsureRoomForRecords"/>).</summary>
    public long StringRecordBytes(int keyLength, int valueLength)
        => RecordSize(keyLength, ValueLayout.InlineSize(Math.Min(valueLength, MaxInlineStringLength), true));

    /// <summary>Log bytes of the record of a collection (its value lives in the heap; see <see cref="EnsureRoomForRecords"/>).</summary>
    public long ObjectRecordBytes(int keyLength) => RecordSize(keyLength, ValueLayout.InlineSize(0, true));

    /// <summary>
    /// Called before a command that may add data: when the log is short of room for about
    /// <paramref name="estimate"/> bytes and compaction can reclaim garbage, compacts now. Returns false when
    /// the room is not there (the command is refused with an OOM error).
    /// </summary>
    public bool PrepareForWrite(long estimate)
    {
        long needed = estimate + 2 * _settings.PageBytes + _writeReserve;
        if (LogBytes + needed <= _usableLogBytes)
            return true;
        if (!IsSnapshotRunning)
            CompactForRoom(needed);
        return LogBytes + needed <= _usableLogBytes;
    }

    /// <summary>Fails fast if FASTER ever evicted a record: that would be data loss, never to be hidden.</summary>
    [Conditional("DEBUG")]
    private void VerifyNoEviction()
    {
        Debug.Assert(_store.Log.HeadAddress <= _store.Log.BeginAddress || _store.Log.HeadAddress <= 64,
            "FASTER evicted records: head " + _store.Log.HeadAddress + " > begin " + _store.Log.BeginAddress);
    }

    // ------------------------------------------------------------------
    // Raw record operations (keys and values as bytes)
    // ------------------------------------------------------------------

    private void EnsureKeyBuffer(int size)
    {
        if (size <= _keyBufferSize)
            return;
        if (_keyBuffer != null)
            NativeMemory.Free(_keyBuffer);
        _keyBufferSize = Math.Max(size, _keyBufferSize * 2);
        _keyBuffer = (byte*)NativeMemory.Alloc((nuint)_keyBufferSize);
    }

    private void EnsureValueBuffer(int size)
    {
        if (size <= _valueBufferSize)
            return;
        if (_valueBuffer != null)
            NativeMemory.Free(_valueBuffer);
        _valueBufferSize = Math.Max(size, _valueBufferSize * 2);
        _valueBuffer = (byte*)NativeMemory.Alloc((nuint)_valueBufferSize);
    }

    /// <summary>Builds the FASTER key for (db, key) in the key scratch buffer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private ref SpanByte StoreKey(int db, ReadOnlySpan<byte> key)
    {
        int length = key.Length + 1;
        if (length + 4 > _keyBufferSize)
            EnsureKeyBuffer(length + 4);
        *(int*)_keyBuffer = length;
        _keyBuffer[4] = (byte)db;
        key.CopyTo(new Span<byte>(_keyBuffer + 5, key.Length));
        return ref SpanByte.Reinterpret(_keyBuffer);
    }

    /// <summary>Reads the live record of (db, key); false when there is none.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool TryReadRecord(int db, ReadOnlySpan<byte> key, out RecordRef record)
    {
        ref var storeKey = ref StoreKey(db, key);
        record = default;
        SpanByte input = default;
        var status = _session.UnsafeContext.Read(ref storeKey, ref input, ref record, Empty.Default, 0);
        Debug.Assert(!status.IsPending, "records are never on disk");
        return status.Found;
    }

    /// <summary>
    /// Writes a value of <paramref name="size"/> bytes prepared in the value buffer for (db, key), in place
    /// when the existing record has room, else as a new record. Returns where the value now is.
    /// </summary>
    private RecordRef UpsertPrepared(int db, ReadOnlySpan<byte> key, int size, bool existed, RecordRef existing)
    {
        ref var storeKey = ref StoreKey(db, key);
        *(int*)_valueBuffer = size;
        ref var value = ref SpanByte.Reinterpret(_valueBuffer);
        SpanByte input = default;
        RecordRef output = default;
        var status = _session.UnsafeContext.Upsert(ref storeKey, ref input, ref value, ref output, Empty.Default, 0);
        Debug.Assert(!status.IsPending);
        if (!existed)
            _liveBytes += RecordSize(key.Length, output.Capacity);
        else if (output.Address != existing.Address)
            _liveBytes += RecordSize(key.Length, output.Capacity) - RecordSize(key.Length, existing.Capacity);
        return output;
    }

    /// <summary>Approximate bytes of log a record takes: header, then key and value each with their length, 8-byte aligned.</summary>
    private static long RecordSize(int keyLength, int valueCapacity)
        => 8 + (((4 + 1 + keyLength) + 7) & ~7) + ((4 + valueCapacity + 7) & ~7);

    /// <summary>Returns a span of the value buffer for building a value of <paramref name="size"/> bytes.</summary>
    private byte* PrepareValue(int size)
    {
        EnsureValueBuffer(size + 4);
        return _valueBuffer + 4;
    }

    private void DeleteRecord(int db, ReadOnlySpan<byte> key)
    {
        ref var storeKey = ref StoreKey(db, key);
        var status = _session.UnsafeContext.Delete(ref storeKey, Empty.Default, 0);
        Debug.Assert(!status.IsPending);
    }

    public void Dispose()
    {
        _session.Dispose();
        _store.Dispose();
        if (_keyBuffer != null)
            NativeMemory.Free(_keyBuffer);
        if (_valueBuffer != null)
            NativeMemory.Free(_valueBuffer);
        _keyBuffer = null;
        _valueBuffer = null;
    }
}

/// <summary>How lookups treat keys whose time to live has passed.</summary>
public enum ExpiryMode
{
    /// <summary>A master: the key is deleted (and the deletion propagated) and reported missing.</summary>
    Delete,

    /// <summary>A replica serving a normal client: reported missing, left for the master's DEL.</summary>
    Hide,

    /// <summary>A replica applying its master's stream, or a load: expired keys are still there.</summary>
    Ignore,
}

/// <summary>What the keyspace tells the rest of the server.</summary>
public interface IKeyspaceObserver
{
    /// <summary>A key's value changed, or the key was created or deleted (WATCH, blocked clients).</summary>
    void KeyModified(int db, ReadOnlySpan<byte> key);

    /// <summary>A key was deleted because its time to live passed: propagate a DEL (and treat it as modified).</summary>
    void KeyExpired(int db, ReadOnlySpan<byte> key);

    /// <summary>Every key of database <paramref name="db"/> was deleted at once (FLUSHDB, FLUSHALL).</summary>
    void DatabaseFlushed(int db);

    /// <summary>A key was added to a database that did not hold it (Redis's dbAdd; not while an RDB loads).</summary>
    void KeyAdded(int db, ReadOnlySpan<byte> key);

    /// <summary>A key was deleted to free memory (maxmemory-policy): propagate a DEL (and treat it as modified).</summary>
    void KeyEvicted(int db, ReadOnlySpan<byte> key);

    /// <summary>A read lookup found no key (Redis's key miss, which <see cref="Keyspace.KeyspaceMisses"/> counts).</summary>
    void KeyMissed(int db, ReadOnlySpan<byte> key);
}
