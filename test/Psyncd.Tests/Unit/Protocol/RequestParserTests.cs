using System.Text;
using Psyncd.Protocol;

namespace Psyncd.Tests.Unit.Protocol;

public class RequestParserTests
{
    private static List<string> Parse(string input, out ParseStatus status, out int consumed)
    {
        var parser = new RequestParser();
        var bytes = Encoding.Latin1.GetBytes(input);
        status = parser.TryParse(bytes, out consumed);
        var result = new List<string>();
        if (status != ParseStatus.Complete)
            return result;
        var buffer = parser.LastWasInline ? parser.InlineBuffer : bytes;
        foreach (var slice in parser.Args)
            result.Add(Encoding.Latin1.GetString(buffer.Slice(slice.Offset, slice.Length)));
        return result;
    }

    [TestCase("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", new[] { "GET", "k" })]
    [TestCase("*1\r\n$0\r\n\r\n", new[] { "" })]
    [TestCase("GET k\r\n", new[] { "GET", "k" })]
    [TestCase("GET k\n", new[] { "GET", "k" })]
    [TestCase("  SET   a   b  \r\n", new[] { "SET", "a", "b" })]
    [TestCase("SET \"a b\" 'c d'\r\n", new[] { "SET", "a b", "c d" })]
    [TestCase("SET \"\\x41\\n\\\"\" 'it\\'s'\r\n", new[] { "SET", "A\n\"", "it's" })]
    public void ParsesWholeRequests(string input, string[] expected)
    {
        var args = Parse(input, out var status, out int consumed);
        Assert.That(status, Is.EqualTo(ParseStatus.Complete));
        Assert.That(consumed, Is.EqualTo(Encoding.Latin1.GetByteCount(input)));
        Assert.That(args, Is.EqualTo(expected));
    }

    [Test]
    public void EveryPrefixOfARequestIsIncompleteAndTheWholeIsComplete()
    {
        const string request = "*3\r\n$3\r\nSET\r\n$5\r\nhello\r\n$5\r\nworld\r\n";
        for (int cut = 0; cut < request.Length; cut++)
        {
            Parse(request[..cut], out var status, out _);
            Assert.That(status, Is.EqualTo(ParseStatus.Incomplete), "cut at " + cut);
        }
        Assert.That(Parse(request, out _, out _), Is.EqualTo(new[] { "SET", "hello", "world" }));
    }

    /// <summary>Bulk headers of every length the digit-by-digit path takes, and those it hands to the general one.</summary>
    [TestCase(0)]
    [TestCase(7)]
    [TestCase(10)]
    [TestCase(99)]
    [TestCase(12345)]
    [TestCase(123456789)]
    public void BulkHeadersOfEveryDigitCountParse(int length)
    {
        var parser = new RequestParser { MaxBulkLength = long.MaxValue };
        string request = "*2\r\n$3\r\nSET\r\n$" + length + "\r\n";
        var head = Encoding.Latin1.GetBytes(request);
        var bytes = new byte[head.Length + length + 2];
        head.CopyTo(bytes, 0);
        bytes[^2] = (byte)'\r';
        bytes[^1] = (byte)'\n';
        Assert.That(parser.TryParse(bytes, out int consumed), Is.EqualTo(ParseStatus.Complete));
        Assert.That(consumed, Is.EqualTo(bytes.Length));
        Assert.That(parser.Args[1].Length, Is.EqualTo(length));
        for (int cut = 0; cut < head.Length; cut++)
            Assert.That(parser.TryParse(bytes.AsSpan(0, cut), out _), Is.EqualTo(ParseStatus.Incomplete), "cut at " + cut);
    }

    [Test]
    public void IncompleteBulkReportsTheBytesItNeeds()
    {
        var parser = new RequestParser();
        var status = parser.TryParse(Encoding.Latin1.GetBytes("*2\r\n$3\r\nSET\r\n$1000\r\nabc"), out _);
        Assert.That(status, Is.EqualTo(ParseStatus.Incomplete));
        Assert.That(parser.MinimumBytesNeeded, Is.EqualTo(13 + 7 + 1000 + 2));
    }

    [TestCase("*x\r\n", "Protocol error: invalid multibulk length")]
    [TestCase("*-\r\n", "Protocol error: invalid multibulk length")]
    [TestCase("*+1\r\n", "Protocol error: invalid multibulk length")]
    [TestCase("*01\r\n", "Protocol error: invalid multibulk length")]
    [TestCase("*1048577\r\n", "Protocol error: invalid multibulk length")]
    [TestCase("*1\r\nx\r\n", "Protocol error: expected '$', got 'x'")]
    [TestCase("*1\r\n$-1\r\n", "Protocol error: invalid bulk length")]
    [TestCase("*1\r\n$x\r\n", "Protocol error: invalid bulk length")]
    [TestCase("*1\r\n$536870913\r\n", "Protocol error: invalid bulk length")]
    [TestCase("*1\r\n$01\r\n", "Protocol error: invalid bulk length")]
    [TestCase("*1\r\n$00\r\n", "Protocol error: invalid bulk length")]
    [TestCase("*1\r\n$+1\r\n", "Protocol error: invalid bulk length")]
    [TestCase("*1\r\n$-0\r\n", "Protocol error: invalid bulk length")]
    [TestCase("*1\r\n$1x\r\n", "Protocol error: invalid bulk length")]
    [TestCase("*1\r\n$\r\n", "Protocol error: invalid bulk length")]
    [TestCase("*1\r\n$1 \r\n", "Protocol error: invalid bulk length")]
    [TestCase("*1\r\n$999999999\r\n", "Protocol error: invalid bulk length")]
    [TestCase("*1\r\n$1000000000\r\n", "Protocol error: invalid bulk length")]
    [TestCase("*1\r\n$99999999999999999999\r\n", "Protocol error: invalid bulk length")]
    [TestCase("SET \"a\r\n", "Protocol error: unbalanced quotes in request")]
    [TestCase("SET \"a\"b\r\n", "Protocol error: unbalanced quotes in request")]
    [TestCase("SET 'a\r\n", "Protocol error: unbalanced quotes in request")]
    public void MalformedRequestsGetRedisErrors(string input, string error)
    {
        var parser = new RequestParser();
        var status = parser.TryParse(Encoding.Latin1.GetBytes(input), out _);
        Assert.That(status, Is.EqualTo(ParseStatus.Error));
        Assert.That(parser.Error, Is.EqualTo(error));
    }

    [Test]
    public void OverlongLinesWithoutTerminatorAreErrors()
    {
        var parser = new RequestParser();
        Assert.That(parser.TryParse(new byte[70 * 1024].Select(_ => (byte)'a').ToArray(), out _), Is.EqualTo(ParseStatus.Error));
        Assert.That(parser.Error, Is.EqualTo("Protocol error: too big inline request"));
        var mbulk = Encoding.Latin1.GetBytes("*" + new string('1', 70 * 1024));
        Assert.That(parser.TryParse(mbulk, out _), Is.EqualTo(ParseStatus.Error));
        Assert.That(parser.Error, Is.EqualTo("Protocol error: too big mbulk count string"));
        var bulk = Encoding.Latin1.GetBytes("*1\r\n$" + new string('1', 70 * 1024));
        Assert.That(parser.TryParse(bulk, out _), Is.EqualTo(ParseStatus.Error));
        Assert.That(parser.Error, Is.EqualTo("Protocol error: too big bulk count string"));
    }

    [TestCase("*0\r\n")]
    [TestCase("*-1\r\n")]
    [TestCase("\r\n")]
    [TestCase("   \r\n")]
    public void EmptyRequestsCompleteWithNoArguments(string input)
    {
        var args = Parse(input, out var status, out int consumed);
        Assert.That(status, Is.EqualTo(ParseStatus.Complete));
        Assert.That(consumed, Is.EqualTo(input.Length));
        Assert.That(args, Is.Empty);
    }
}
