using System.Globalization;
using System.Text;
using Psyncd.Rdb;
using Psyncd.Storage;

namespace Psyncd.Tests.Unit.Rdb;

/// <summary>In-process keyspaces for RDB tests: a new keyspace, and RDB bytes in and out (their text: <see cref="Support.DatasetText"/>).</summary>
internal static class KeyspaceRdb
{
    public static Keyspace NewKeyspace() => new(StoreSettings.Small, 16);

    /// <summary>The whole keyspace as an RDB, written the way SAVE does.</summary>
    public static byte[] Save(Keyspace keyspace, bool compress = true, bool checksum = true)
    {
        var stream = new MemoryStream();
        var output = new RdbOutput(stream);
        var writer = new RdbWriter(compress);
        writer.WriteHeader(new RdbHeader("7.0.15", 1700000000, 1000000));
        writer.WriteDatabaseSizes(keyspace);
        keyspace.BeginSnapshot(new DirectRdbSink(writer, output));
        while (!keyspace.ContinueSnapshot(1000))
        {
        }
        writer.WriteEof();
        writer.FlushTo(output);
        output.WriteChecksum(checksum);
        return stream.ToArray();
    }

    public static RdbReader Load(Keyspace keyspace, byte[] rdb, bool dropExpired = true)
    {
        var reader = new RdbReader(new MemoryStream(rdb, writable: false));
        reader.Load(keyspace, keyspace.NowMs, dropExpired);
        return reader;
    }

    public static byte[] B(string s) => Encoding.UTF8.GetBytes(s);
}
