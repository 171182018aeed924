using System.Buffers;
using System.Diagnostics;
using Psyncd.Execution;
using Psyncd.Rdb;
using Psyncd.Storage;

namespace Psyncd.Persistence;

/// <summary>
/// A background RDB snapshot (BGSAVE, a full sync's payload): the instant is taken in the loop by
/// <see cref="Begin"/>; <see cref="StreamTo"/> then runs on a thread of its own, entering the loop for short
/// walk steps and writing the serialized bytes to its destination outside it.
/// </summary>
/// <remarks>
/// Keys reach the snapshot two ways, both inside the loop: the walk steps, and writes that preserve a key
/// not walked yet before changing it (<see cref="ISnapshotSink.Write"/>). Either way the key is serialized at
/// once into <see cref="_writer"/>'s buffer; the streaming thread swaps that buffer for an empty one under a
/// small lock and writes the full one out while commands keep running. The loop's stall per step is bounded
/// by <see cref="StepBudgetTicks"/> (and <see cref="StepRecords"/>).
/// <para>
/// Both buffers come from <see cref="ArrayPool{T}.Shared"/> and go back when <see cref="StreamTo"/> ends: once
/// warm, a snapshot allocates a few kilobytes of small objects, not its buffers (two of 64 KB, and the grown
/// ones on the large object heap, which used_memory counted until a full collection).
/// </para>
/// </remarks>
public sealed class RdbSnapshot : ISnapshotSink
{
    /// <summary>Most records walked per visit to the loop (bounds the buffer one step fills).</summary>
    public const int StepRecords = 4000;

    /// <summary>
    /// Longest time one walk step holds the loop while nobody waits for it: a millisecond. A number of records was
    /// no bound in time: steps of 2,000 records of 100-byte strings took 0.5-2 ms, 2-5 ms in the first BGSAVE of a
    /// process (code not optimized yet), more with larger values. A thread waiting at the loop's door ends the step
    /// sooner (<see cref="_stopStep"/>).
    /// </summary>
    public static readonly long StepBudgetTicks = Stopwatch.Frequency / 1000;

    /// <summary>Longest wait, after a step that stepped aside, for the waiter to get in (it never gives up; this is a safety bound).</summary>
    private static readonly TimeSpan MaxWaitForWaiter = TimeSpan.FromMilliseconds(20);

    private readonly Lock _gate = new();
    private readonly RdbWriter _writer;
    private readonly CommandLoop _loop;
    private readonly Keyspace _keyspace;
    private byte[] _spare;

    /// <summary>Size of each of the two buffers to begin with: room for several steps' output.</summary>
    private const int BufferBytes = 64 * 1024;

    /// <summary>
    /// Bytes the writer holds before the streaming thread takes them: steps that stepped aside for a waiter may
    /// have written a few records each, and each drain is a write to the file or the replicas' sockets.
    /// </summary>
    private const int DrainBytes = 32 * 1024;

    // Both only change inside the loop.
    private bool _cancelled;
    private bool _walkDone;

    private RdbSnapshot(CommandLoop loop, Keyspace keyspace, bool compress)
    {
        _loop = loop;
        _keyspace = keyspace;
        _writer = new RdbWriter(compress, BufferBytes, ArrayPool<byte>.Shared);
        _spare = ArrayPool<byte>.Shared.Rent(BufferBytes);
        _stopStep = () => _loop.HasWaiters || Stopwatch.GetTimestamp() >= _stepDeadline;
    }

    /// <summary>When the current walk step must end (a <see cref="Stopwatch"/> timestamp).</summary>
    private long _stepDeadline;

    /// <summary>
    /// A walk step ends at its deadline, or as soon as another thread waits at the loop's door: a client's request
    /// then waits for at most <see cref="Keyspace.RecordsBetweenStopChecks"/> records, not for the whole step.
    /// </summary>
    private readonly Func<bool> _stopStep;

    /// <summary>Takes the snapshot's instant (inside the loop). Fails when another snapshot is running.</summary>
    public static RdbSnapshot Begin(CommandLoop loop, Keyspace keyspace, RdbHeader header, bool compress)
    {
        long start = Stopwatch.GetTimestamp();
        var snapshot = new RdbSnapshot(loop, keyspace, compress);
        snapshot._writer.WriteHeader(header);
        snapshot._writer.WriteDatabaseSizes(keyspace);
        keyspace.BeginSnapshot(snapshot);
        // Redis's event for the same stall (its fork); latest_fork_usec is the callers'.
        loop.Latency?.AddSampleIfNeeded("fork", (long)Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        return snapshot;
    }

    /// <summary>Bytes streamed so far.</summary>
    public long BytesWritten { get; private set; }

    void ISnapshotSink.Write(int db, ReadOnlySpan<byte> key, in Entry entry)
    {
        lock (_gate)
            _writer.WriteKey(db, key, entry);
    }

    /// <summary>Stops the snapshot (inside the loop); <see cref="StreamTo"/> then fails with <see cref="OperationCanceledException"/>.</summary>
    public void Cancel()
    {
        if (_cancelled || _walkDone)
            return;
        _cancelled = true;
        _keyspace.AbortSnapshot();
    }

    /// <summary>
    /// Walks the snapshot and writes the whole RDB (through EOF and checksum) to <paramref name="destination"/>.
    /// Call outside the loop, on a thread that may block on the destination.
    /// </summary>
    public void StreamTo(Stream destination, bool checksum)
    {
        var output = new RdbOutput(destination);
        try
        {
            bool done = false;
            while (!done)
            {
                bool steppedAside;
                long pass;
                _loop.Enter();
                try
                {
                    if (_cancelled)
                        throw new OperationCanceledException("snapshot cancelled");
                    long stepStart = Stopwatch.GetTimestamp();
                    _stepDeadline = stepStart + StepBudgetTicks;
                    done = _walkDone = _keyspace.ContinueSnapshot(StepRecords, _stopStep);
                    steppedAside = _loop.HasWaiters;
                    pass = _loop.Passes;
                    _loop.Latency?.AddSampleIfNeeded("snapshot-step", (Stopwatch.GetTimestamp() - stepStart) * 1000 / Stopwatch.Frequency);
                }
                finally
                {
                    _loop.Exit();
                }
                Drain(output, all: done);
                // The waiter goes first. Without this, the next step often began before the waiter had woken (the
                // lock is not fair), and a client's request waited up to 63 ms behind steps of microseconds each.
                if (steppedAside && !done)
                    _loop.WaitForAnotherPass(pass, MaxWaitForWaiter);
            }
            lock (_gate)
                _writer.WriteEof();
            Drain(output, all: true);
            output.WriteChecksum(checksum);
            destination.Flush();
        }
        catch
        {
            _loop.Enter();
            try
            {
                Cancel();
            }
            finally
            {
                _loop.Exit();
            }
            throw;
        }
        finally
        {
            BytesWritten = output.BytesWritten;
            ReturnBuffers();
        }
    }

    /// <summary>
    /// Writes out what the writer holds, once it holds <see cref="DrainBytes"/> (or <paramref name="all"/> of it).
    /// </summary>
    private void Drain(RdbOutput output, bool all)
    {
        byte[] full;
        int length;
        lock (_gate)
        {
            if (!all && _writer.Length < DrainBytes)
                return;
            full = _writer.SwapBuffer(_spare, out length);
        }
        output.Write(full.AsSpan(0, length));
        _spare = full;
    }

    /// <summary>
    /// Back to the pool, once nothing writes to the snapshot any more: its walk is over, or it was cancelled inside
    /// the loop (<see cref="Cancel"/>), so the loop never calls <see cref="ISnapshotSink.Write"/> again.
    /// </summary>
    private void ReturnBuffers()
    {
        lock (_gate)
        {
            _writer.ReturnBuffer();
            if (_spare.Length > 0)
                ArrayPool<byte>.Shared.Return(_spare);
            _spare = [];
        }
    }
}
