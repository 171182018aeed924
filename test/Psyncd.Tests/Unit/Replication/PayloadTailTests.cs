using Psyncd.Replication.Replica;

namespace Psyncd.Tests.Unit.Replication;

/// <summary>
/// A diskless payload ends with a 40-byte mark, which may arrive split across any number of network reads: the
/// replica keeps the last bytes received in memory and compares them with the mark after each read.
/// </summary>
public class PayloadTailTests
{
    [Test]
    public void TheKeptTailIsAlwaysTheLastBytesReceivedWhateverTheReadSizes()
    {
        var random = new Random(1201);
        for (int round = 0; round < 200; round++)
        {
            var stream = new byte[random.Next(0, 400)];
            random.NextBytes(stream);
            var tail = new byte[40];
            int length = 0;
            int at = 0;
            while (at < stream.Length)
            {
                // Reads of 1 byte, of less than the mark, and of more than it.
                int read = Math.Min(stream.Length - at, random.Next(3) switch { 0 => 1, 1 => random.Next(1, 40), _ => random.Next(40, 120) });
                PayloadTail.Keep(tail, ref length, stream.AsSpan(at, read));
                at += read;
                int expected = Math.Min(at, tail.Length);
                Assert.That(length, Is.EqualTo(expected));
                Assert.That(tail.AsSpan(0, length).ToArray(), Is.EqualTo(stream.AsSpan(at - expected, expected).ToArray()), "round " + round + " after " + at + " bytes");
            }
        }
    }
}
