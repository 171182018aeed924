using FASTER.core;

namespace Psyncd.Storage;

/// <summary>Receives the keys of a snapshot; called inside the command loop.</summary>
public interface ISnapshotSink
{
    /// <summary>
    /// One key, with its value as of the snapshot's instant. The entry is only valid during the call:
    /// serialize or copy what is needed before returning. Keys of all databases arrive interleaved.
    /// </summary>
    void Write(int db, ReadOnlySpan<byte> key, in Entry entry);
}

/// <summary>
/// Point-in-time snapshots of the keyspace while commands keep running (the BGSAVE and full-sync
/// mechanism; .NET cannot fork).
/// </summary>
/// <remarks>
/// <para>
/// At the snapshot's instant the log's tail is noted as <c>End</c> and everything below it is made read-only
/// in FASTER (so no record below <c>End</c> changes in place any more: a write to such a key makes a new
/// record at the tail). A cursor then walks the log from its beginning to <c>End</c> in small steps taken
/// between command batches; each record that is still its key's live record is written to the sink.
/// </para>
/// <para>
/// A command about to change a key whose live record lies between the cursor and <c>End</c> (not yet
/// walked) first writes that record to the sink (<see cref="PreserveForSnapshot"/>) and moves the record to
/// the tail by rewriting it unchanged. The walk then finds the old record superseded and skips it. So every
/// key present at the instant is written exactly once, with its value of that instant; keys created later
/// are above <c>End</c> and never written. Collections are covered the same way: their in-place mutation
/// always follows a <see cref="LookupWrite"/>, which preserves them first.
/// </para>
/// <para>Compaction is suspended while a snapshot runs, so records below <c>End</c> stay where they are.</para>
/// </remarks>
public sealed unsafe partial class Keyspace
{
    private SnapshotState? _snapshot;

    private sealed class SnapshotState
    {
        public required ISnapshotSink Sink;
        public required long End;
        public long Cursor;
        public long Written;
    }

    /// <summary>True while a snapshot is being taken.</summary>
    public bool IsSnapshotRunning => _snapshot is not null;

    /// <summary>Keys written to the running snapshot so far.</summary>
    public long SnapshotKeysWritten => _snapshot?.Written ?? 0;

    /// <summary>
    /// Takes the snapshot's instant now; keys are then delivered to <paramref name="sink"/> by
    /// <see cref="ContinueSnapshot"/> steps and by writes that preserve them first. One snapshot at a time.
    /// </summary>
    public void BeginSnapshot(ISnapshotSink sink)
    {
        if (_snapshot is not null)
            throw new InvalidOperationException("a snapshot is already running");
        long end = _store.Log.TailAddress;
        OutsideEpoch(() => _store.Log.ShiftReadOnlyAddress(end, wait: true));
        _snapshot = new SnapshotState { Sink = sink, End = end, Cursor = _store.Log.BeginAddress };
    }

    /// <summary>
    /// Walks up to <paramref name="maxRecords"/> more records of the snapshot, and stops early once
    /// <paramref name="stopEarly"/> says so (asked every <see cref="RecordsBetweenStopChecks"/> records, so a step
    /// walks at least that many). Returns true when the walk is complete (the snapshot then ends: every key has
    /// been delivered).
    /// </summary>
    public bool ContinueSnapshot(int maxRecords, Func<bool>? stopEarly = null)
    {
        var state = _snapshot ?? throw new InvalidOperationException("no snapshot is running");
        if (state.Cursor < state.End)
        {
            using var iterator = _store.Log.Scan(state.Cursor, state.End, ScanBufferingMode.NoBuffering);
            int visited = 0;
            bool exhausted = false;
            while (visited < maxRecords)
            {
                if ((visited & (RecordsBetweenStopChecks - 1)) == 0 && visited > 0 && stopEarly is not null && stopEarly())
                    break;
                if (!iterator.GetNext(out var info))
                {
                    exhausted = true;
                    break;
                }
                visited++;
                long address = iterator.CurrentAddress;
                state.Cursor = iterator.NextAddress;
                if (info.Tombstone || info.Invalid)
                    continue;
                ref var storeKey = ref iterator.GetKey();
                var keyBytes = storeKey.AsReadOnlySpan();
                if (!IsLiveAt(ref storeKey, address, out var record))
                    continue;
                int db = keyBytes[0];
                state.Sink.Write(db, keyBytes[1..], MakeEntry(record));
                state.Written++;
            }
            if (exhausted)
                state.Cursor = state.End;
        }
        if (state.Cursor < state.End)
            return false;
        _snapshot = null;
        return true;
    }

    /// <summary>How many records a walk step visits between two questions to its stop condition (a power of two).</summary>
    public const int RecordsBetweenStopChecks = 16;

    /// <summary>Stops a snapshot before it completed (its sink failed or was cancelled).</summary>
    public void AbortSnapshot() => _snapshot = null;

    /// <summary>
    /// Before a key's live record (at <paramref name="record"/>) is changed: if the snapshot has not walked
    /// it yet, deliver it now and move it above the snapshot's end. Returns where the record now is.
    /// </summary>
    private RecordRef PreserveForSnapshot(int db, ReadOnlySpan<byte> key, RecordRef record)
    {
        var state = _snapshot!;
        if (record.Address < state.Cursor || record.Address >= state.End)
            return record;
        state.Sink.Write(db, key, MakeEntry(record));
        state.Written++;
        // Rewrite the record unchanged: below End it is read-only, so FASTER puts the copy at the tail.
        EnsureRoom(RecordSize(key.Length, record.Capacity), forDeletion: true);
        byte* prepared = PrepareValue(record.Capacity);
        new ReadOnlySpan<byte>(record.Value, record.Capacity).CopyTo(new Span<byte>(prepared, record.Capacity));
        return UpsertPrepared(db, key, record.Capacity, true, record);
    }

    /// <summary>True when the live record of <paramref name="storeKey"/> is the one at <paramref name="address"/>.</summary>
    private bool IsLiveAt(ref SpanByte storeKey, long address, out RecordRef record)
    {
        record = default;
        SpanByte input = default;
        var status = _session.UnsafeContext.Read(ref storeKey, ref input, ref record, Empty.Default, 0);
        return status.Found && record.Address == address;
    }
}
