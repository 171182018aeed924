using Psyncd.Storage;

namespace Psyncd.Rdb;

/// <summary>A snapshot sink that writes straight through to an output (SAVE: the whole walk in one loop visit).</summary>
internal sealed class DirectRdbSink : ISnapshotSink
{
    private const int FlushThreshold = 1 << 20;

    private readonly RdbWriter _writer;
    private readonly RdbOutput _output;

    public DirectRdbSink(RdbWriter writer, RdbOutput output)
    {
        _writer = writer;
        _output = output;
    }

    public void Write(int db, ReadOnlySpan<byte> key, in Entry entry)
    {
        _writer.WriteKey(db, key, entry);
        if (_writer.Length >= FlushThreshold)
            _writer.FlushTo(_output);
    }
}
