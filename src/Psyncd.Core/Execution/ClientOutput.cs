using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Psyncd.Diagnostics;
using Psyncd.Protocol;

namespace Psyncd.Execution;

/// <summary>
/// A client's output: replies written by commands inside the loop, flushed to the transport's pipe when
/// the loop's batch ends.
/// </summary>
/// <remarks>
/// Bytes normally go straight into the pipe's memory. When the pipe is backed up (the peer reads slower
/// than we write) or the output is held (a replica receiving its RDB first), bytes go to an overflow list
/// of pooled chunks instead; they move into the pipe as it drains. A batch that writes more than the pipe's
/// threshold continues in the overflow too. What the output buffer limits (<c>client-output-buffer-limit</c>)
/// measure is <see cref="UnsentBytes"/>: the overflow plus what the pipe holds, as Redis measures its reply list.
/// All members are called inside the command loop, except the flush continuation, which enters it.
/// </remarks>
public sealed class ClientOutput : ReplyWriter
{
    private const int OverflowChunkSize = 16 * 1024;

    private readonly PipeWriter? _pipe;
    private readonly CommandLoop _loop;

    // Chunks waiting for the pipe, oldest first; each holds [0, Length) bytes.
    private readonly Queue<(byte[] Buffer, int Length)> _overflow = new();

    /// <summary>Bytes held in <see cref="_overflow"/>, not counting the chunk being filled.</summary>
    private long _overflowBytes;

    /// <summary>Bytes moved out of <see cref="ReplyWriter.Chunk"/> so far (committed, queued or dropped): with the position, <see cref="BytesWritten"/>.</summary>
    private long _committed;

    /// <summary>True while <see cref="ReplyWriter.Chunk"/> is an overflow chunk rather than pipe memory.</summary>
    private bool _writingToOverflow;

    /// <summary>True while a pipe flush is waiting for the peer to read; new bytes overflow meanwhile.</summary>
    private bool _flushPending;

    /// <summary>True while output is held back on purpose (<see cref="Hold"/>).</summary>
    private bool _held;

    /// <summary>True once the output is closed or discarded: everything written is dropped.</summary>
    private bool _discarding;

    private static readonly byte[] s_discardBuffer = new byte[64 * 1024];

    /// <summary>Creates the output of a connection.</summary>
    public ClientOutput(PipeWriter pipe, CommandLoop loop)
    {
        _pipe = pipe;
        _loop = loop;
    }

    /// <summary>Creates an output that drops every byte (the master's link on a replica, internal clients).</summary>
    public ClientOutput(CommandLoop loop)
    {
        _loop = loop;
        _discarding = true;
        Chunk = s_discardBuffer;
    }

    /// <summary>Creates an output that keeps what is written in memory (the scripts' client: redis.call reads the reply back).</summary>
    public static ClientOutput ForCapture(CommandLoop loop) => new(loop, capture: true);

    private ClientOutput(CommandLoop loop, bool capture)
    {
        _loop = loop;
        _capturing = capture;
        Chunk = new byte[4096];
    }

    /// <summary>True for an output that keeps its bytes (<see cref="ForCapture"/>).</summary>
    private readonly bool _capturing;

    /// <summary>What a capturing output holds since <see cref="ClearCaptured"/>.</summary>
    public ReadOnlySpan<byte> Captured => Chunk.Span[..Position];

    public void ClearCaptured()
    {
        _committed += Position;
        Position = 0;
    }

    /// <summary>The client this output belongs to (set by the client).</summary>
    internal Client? Owner { get; set; }

    /// <summary>Asks for this output to be flushed when the loop's batch ends (for output written to a client other than the one whose command runs).</summary>
    public void RequestFlush()
    {
        if (Owner is not null && !_discarding)
            _loop.ScheduleFlush(Owner);
    }

    /// <summary>
    /// The transport pipe's pause threshold (Kestrel's MaxWriteBufferSize): a flush waits while the pipe holds
    /// at least this many bytes the socket has not taken yet.
    /// </summary>
    /// <remarks>
    /// Small, as Redis's own reply buffer (16 kB, also left out of omem), because what the pipe holds is known
    /// only to be at least this much while a flush waits (<see cref="UnsentBytes"/>): with 1 MB, omem jumped
    /// from 0 to 1 MB, and a 100 kB output limit acted only past 1 MB. A flush whose bytes the socket takes
    /// at once never waits, whatever its size.
    /// </remarks>
    public const int TransportBufferBytes = 16 * 1024;

    /// <summary>
    /// Bytes written and not yet taken by the socket, as the output buffer limits and CLIENT LIST's omem count them: the overflow,
    /// what this batch wrote into the pipe without flushing it, and, while a flush waits for the peer, the
    /// pipe's pause threshold (the pipe holds at least that much then). The pipe's exact backlog is not
    /// observable, so this is a lower bound that is short by less than <see cref="TransportBufferBytes"/>.
    /// </summary>
    public long UnsentBytes
    {
        get
        {
            if (_discarding || _capturing)
                return 0;
            long unsent = _overflowBytes + Position;
            // While held, the pipe belongs to the RDB transfer's writer on another thread: not ours to read.
            if (!_held && _pipe!.CanGetUnflushedBytes)
                unsent += _pipe.UnflushedBytes;
            if (_flushPending)
                unsent += TransportBufferBytes;
            return unsent;
        }
    }

    /// <summary>Bytes held in the overflow's pooled chunks (what dropping the output gives back).</summary>
    public long PendingBytes => _overflowBytes + (_writingToOverflow ? Position : 0);

    /// <summary>Called each time the output grows by a chunk (the server checks the output buffer limit).</summary>
    internal Action<Client>? Grew { get; set; }

    public override long BytesWritten => _committed + Position;

    /// <summary>True when written bytes are dropped.</summary>
    public bool IsDiscarding => _discarding;

    /// <summary>True when nothing is waiting in the overflow or in the current chunk.</summary>
    public bool IsEmpty => Position == 0 && _overflowBytes == 0;

    /// <summary>From now on, drop everything (the connection is closing, or replies are suppressed).</summary>
    public void Discard()
    {
        _discarding = true;
        ReleasedMemory.Note(PendingBytes); // beyond what the array pool keeps, the chunks become garbage
        while (_overflow.TryDequeue(out var chunk))
            ArrayPool<byte>.Shared.Return(chunk.Buffer);
        _overflowBytes = 0;
        if (_writingToOverflow && Chunk.Length > 0 && MemoryMarshalTryGetArray(Chunk, out var array) && array != s_discardBuffer)
            ArrayPool<byte>.Shared.Return(array!);
        _writingToOverflow = false;
        Chunk = s_discardBuffer;
        _committed += Position;
        Position = 0;
    }

    /// <summary>
    /// Holds output back: what is written from now on waits in the overflow until <see cref="Release"/>.
    /// Used for a replica whose stream must wait for its RDB payload.
    /// </summary>
    public void Hold()
    {
        Debug.Assert(_loop.IsInside);
        if (_discarding)
            return;
        CommitToPipe();
        _held = true;
        SwitchToOverflow();
    }

    /// <summary>Ends <see cref="Hold"/>: what waited is sent, in order, after whatever the pipe has.</summary>
    public void Release()
    {
        Debug.Assert(_loop.IsInside);
        _held = false;
        Flush();
    }

    /// <summary>The pipe itself, for a writer that owns the connection while output is held (RDB transfer).</summary>
    public PipeWriter? Pipe => _pipe;

    /// <summary>
    /// Hands what was written to the transport. Never waits: a backed-up pipe leaves bytes in the overflow. Called outside
    /// the loop's own flush at a batch's end (a reply before a close, a handshake reply before another thread writes to
    /// the socket), it first commits the durable log's pending bytes: no reply leaves before its write is in the log.
    /// </summary>
    public void Flush()
    {
        Debug.Assert(_loop.IsInside);
        if (_capturing)
            return;
        if (!_discarding && _loop.OutputHeld)
            _loop.CommitNow();
        if (_discarding)
        {
            _committed += Position;
            Position = 0;
            return;
        }
        if (_held || _flushPending)
            return;
        // Each round moves a bounded part of the overflow, so that what the peer has not read yet stays
        // in the overflow, where the output buffer limits can see it.
        while (true)
        {
            bool drained = !_writingToOverflow || MoveOverflowToPipe(MaxMovePerFlush);
            if (drained)
                CommitToPipe();
            if (!FlushPipe() || drained)
                return;
        }
    }

    /// <summary>
    /// Most bytes moved into the pipe before it is flushed again. No more than the pipe's threshold: bytes
    /// moved into a pipe the peer does not drain are counted only as that threshold, so a larger move would
    /// make omem drop while the peer reads nothing (and restart a soft limit's clock).
    /// </summary>
    private const int MaxMovePerFlush = TransportBufferBytes;

    protected override void NextChunk(int sizeHint)
    {
        if (_capturing)
        {
            var bigger = new byte[Math.Max(Chunk.Length * 2, Position + sizeHint)];
            Chunk.Span[..Position].CopyTo(bigger);
            Chunk = bigger;
            return;
        }
        // The check may discard the output (client over its limit): then this chunk comes from the discard buffer.
        if (!_discarding && Grew is not null && Owner is not null)
            Grew(Owner);
        if (_discarding)
        {
            _committed += Position;
            Position = 0;
            if (Chunk.Length < sizeHint)
                Chunk = new byte[sizeHint];
            return;
        }
        if (_writingToOverflow)
        {
            if (Position > 0)
            {
                MemoryMarshalTryGetArray(Chunk, out var array);
                _overflow.Enqueue((array!, Position));
                _overflowBytes += Position;
            }
            else if (Chunk.Length > 0 && MemoryMarshalTryGetArray(Chunk, out var unused))
            {
                ArrayPool<byte>.Shared.Return(unused!);
            }
            Chunk = ArrayPool<byte>.Shared.Rent(Math.Max(sizeHint, OverflowChunkSize));
            _committed += Position;
            Position = 0;
            return;
        }
        if (Position > 0)
            _pipe!.Advance(Position);
        _committed += Position;
        Position = 0;
        // One read of pipelined requests can produce any amount of replies. Past a bound they are flushed
        // at once, so that what the peer does not take goes to the overflow (where it is counted and, once
        // dropped, returned to the system) rather than piling up in the transport's pooled blocks, which
        // are kept for reuse forever. While the durable log holds output (group commit), they go to the
        // overflow without a flush, and leave at the pass end.
        if (_pipe!.CanGetUnflushedBytes && _pipe.UnflushedBytes >= MaxMovePerFlush)
        {
            if (_loop.OutputHeld)
            {
                RequestFlush();
                _writingToOverflow = true;
                Chunk = ArrayPool<byte>.Shared.Rent(Math.Max(sizeHint, OverflowChunkSize));
                return;
            }
            Chunk = default;
            if (!FlushPipe())
            {
                NextChunk(sizeHint); // the flush waits (overflow from now on) or the transport is gone
                return;
            }
        }
        Chunk = _pipe.GetMemory(Math.Max(sizeHint, 4096));
    }

    private void CommitToPipe()
    {
        if (_writingToOverflow || _discarding)
            return;
        if (Position > 0)
            _pipe!.Advance(Position);
        Chunk = default;
        _committed += Position;
        Position = 0;
    }

    private void SwitchToOverflow()
    {
        if (_writingToOverflow)
            return;
        _writingToOverflow = true;
        Chunk = ArrayPool<byte>.Shared.Rent(OverflowChunkSize);
        _committed += Position;
        Position = 0;
    }

    /// <summary>
    /// Copies up to <paramref name="budget"/> bytes of the overflow into the pipe; returns true when the
    /// overflow is empty and writes can go straight to the pipe again.
    /// </summary>
    private bool MoveOverflowToPipe(int budget)
    {
        // The chunk being filled joins the queue so that order is kept.
        if (Position > 0)
        {
            MemoryMarshalTryGetArray(Chunk, out var array);
            _overflow.Enqueue((array!, Position));
            _overflowBytes += Position;
        }
        else if (Chunk.Length > 0 && MemoryMarshalTryGetArray(Chunk, out var unused))
        {
            ArrayPool<byte>.Shared.Return(unused!);
        }
        Chunk = default;
        _committed += Position;
        Position = 0;

        int moved = 0;
        while (moved < budget && _overflow.TryDequeue(out var chunk))
        {
            _pipe!.Write(chunk.Buffer.AsSpan(0, chunk.Length));
            _overflowBytes -= chunk.Length;
            moved += chunk.Length;
            ArrayPool<byte>.Shared.Return(chunk.Buffer);
        }
        ReleasedMemory.NoteDrained(moved);
        if (_overflow.Count > 0)
        {
            Chunk = ArrayPool<byte>.Shared.Rent(OverflowChunkSize);
            return false;
        }
        _writingToOverflow = false;
        return true;
    }

    /// <summary>Flushes the pipe; returns true when the flush completed at once.</summary>
    private bool FlushPipe()
    {
        if (_pipe!.CanGetUnflushedBytes)
            _loop.OutputBytes += _pipe.UnflushedBytes;
        var flush = _pipe.FlushAsync();
        if (flush.IsCompletedSuccessfully)
        {
            if (flush.Result.IsCompleted)
            {
                Discard(); // the transport is gone: nobody will read what we write
                return false;
            }
            return true;
        }
        _flushPending = true;
        SwitchToOverflow();
        _ = AwaitFlushAsync(flush);
        return false;
    }

    private async Task AwaitFlushAsync(ValueTask<FlushResult> flush)
    {
        bool transportGone;
        try
        {
            transportGone = (await flush.ConfigureAwait(false)).IsCompleted;
        }
        catch (Exception)
        {
            // The connection failed while we waited; its receive loop reports and cleans up.
            transportGone = true;
        }
        _loop.Enter();
        try
        {
            _flushPending = false;
            if (transportGone)
                Discard();
            else if (_loop.OutputHeld)
                RequestFlush(); // at the pass end, with the log's write
            else
                Flush();
        }
        finally
        {
            _loop.Exit();
        }
    }

    private static bool MemoryMarshalTryGetArray(Memory<byte> memory, out byte[]? array)
    {
        if (System.Runtime.InteropServices.MemoryMarshal.TryGetArray<byte>(memory, out var segment))
        {
            array = segment.Array;
            return true;
        }
        array = null;
        return false;
    }
}
