using System.Text;
using Psyncd.Protocol;

namespace Psyncd.Tests.Unit.Protocol;

/// <summary>The typed writers under each protocol: RESP3's own types, and RESP2's bytes for the same calls.</summary>
public class ReplyWriterTests
{
    private static string Write(bool resp3, Action<ReplyWriter> write)
    {
        var writer = new ByteBufferWriter { Resp3 = resp3 };
        write(writer);
        return Encoding.Latin1.GetString(writer.WrittenSpan);
    }

    [TestCase(false, "$-1\r\n*-1\r\n")]
    [TestCase(true, "_\r\n_\r\n")]
    public void Nulls(bool resp3, string expected)
        => Assert.That(Write(resp3, w => { w.WriteNullBulk(); w.WriteNullArray(); }), Is.EqualTo(expected));

    [TestCase(false, "*4\r\n*3\r\n*2\r\n")]
    [TestCase(true, "%2\r\n~3\r\n>2\r\n")]
    public void AggregateHeaders(bool resp3, string expected)
        => Assert.That(Write(resp3, w => { w.WriteMapHeader(2); w.WriteSetHeader(3); w.WritePushHeader(2); }), Is.EqualTo(expected));

    [TestCase(false, "$4\r\n2.5e\r\n$3\r\ninf\r\n:1\r\n:0\r\n")]
    [TestCase(true, ",2.5e\r\n,inf\r\n#t\r\n#f\r\n")]
    public void ScalarTypes(bool resp3, string expected)
        => Assert.That(Write(resp3, w => { w.WriteDouble("2.5e"u8); w.WriteDouble("inf"u8); w.WriteBoolean(true); w.WriteBoolean(false); }), Is.EqualTo(expected));

    [TestCase(false, "$6\r\na:1\r\nb\r\n$0\r\n\r\n")]
    [TestCase(true, "=10\r\ntxt:a:1\r\nb\r\n=4\r\ntxt:\r\n")]
    public void VerbatimText(bool resp3, string expected)
        => Assert.That(Write(resp3, w => { w.WriteVerbatim("a:1\r\nb"); w.WriteVerbatim(""u8); }), Is.EqualTo(expected));
}
