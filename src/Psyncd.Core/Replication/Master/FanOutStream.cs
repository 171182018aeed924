using System.Buffers;
using System.IO.Pipelines;

namespace Psyncd.Replication.Master;

/// <summary>
/// A write-only stream copying every write to several replicas' transports (one diskless payload for all).
/// A target that fails is dropped and remembered; the others go on. Blocks on back-pressure: use it from a
/// thread of its own, never inside the loop.
/// </summary>
internal sealed class FanOutStream : Stream
{
    private readonly PipeWriter?[] _targets;
    private readonly bool[] _failed;

    public FanOutStream(PipeWriter?[] targets)
    {
        _targets = targets;
        _failed = new bool[targets.Length];
        for (int i = 0; i < targets.Length; i++)
            _failed[i] = targets[i] is null;
    }

    /// <summary>True when target <paramref name="index"/> failed (its replica must start over).</summary>
    public bool Failed(int index) => _failed[index];

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        bool anyAlive = false;
        for (int i = 0; i < _targets.Length; i++)
        {
            if (_failed[i])
                continue;
            try
            {
                _targets[i]!.Write(buffer);
                var result = _targets[i]!.FlushAsync().AsTask().GetAwaiter().GetResult();
                if (result.IsCompleted || result.IsCanceled)
                    _failed[i] = true;
                else
                    anyAlive = true;
            }
            catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
            {
                _failed[i] = true;
            }
        }
        if (!anyAlive)
            throw new IOException("every replica of the diskless transfer is gone");
    }

    public override void Flush()
    {
    }

    public override bool CanRead => false;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();
}
