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
/// by <see cref="StepRecords"/>.
/// </remarks>
public sealed class RdbSnapshot : ISnapshotSink
{
    /// <summary>Records walked per visit to the loop (well under a millisecond for ordinary keys).</summary>
    public const int StepRecords = 2000;

    private readonly Lock _gate = new();
    private readonly RdbWriter _writer;
    private readonly CommandLoop _loop;
    private readonly Keyspace _keyspace;
    private byte[] _spare = new byte[64 * 1024];

    // Both only change inside the loop.
    private bool _cancelled;
    private bool _walkDone;

    private RdbSnapshot(CommandLoop loop, Keyspace keyspace, bool compress)
    {
        _loop = loop;
        _keyspace = keyspace;
        _writer = new RdbWriter(compress);
    }

    /// <summary>Takes the snapshot's instant (inside the loop). Fails when another snapshot is running.</summary>
    public static RdbSnapshot Begin(CommandLoop loop, Keyspace keyspace, RdbHeader header, bool compress)
    {
        var snapshot = new RdbSnapshot(loop, keyspace, compress);
        snapshot._writer.WriteHeader(header);
        keyspace.BeginSnapshot(snapshot);
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
                _loop.Enter();
                try
                {
                    if (_cancelled)
                        throw new OperationCanceledException("snapshot cancelled");
                    done = _walkDone = _keyspace.ContinueSnapshot(StepRecords);
                }
                finally
                {
                    _loop.Exit();
                }
                Drain(output);
            }
            lock (_gate)
                _writer.WriteEof();
            Drain(output);
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
        }
    }

    private void Drain(RdbOutput output)
    {
        byte[] full;
        int length;
        lock (_gate)
            full = _writer.SwapBuffer(_spare, out length);
        output.Write(full.AsSpan(0, length));
        _spare = full;
    }
}
