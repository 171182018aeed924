using System.Text;
using Psyncd.Persistence;

namespace Psyncd.Tests.Unit.Persistence;

/// <summary>
/// The manifest of the multi-part log, read with redis-server 7.0.15's rules: each fault below is refused with the
/// message (and line) redis-server 7.0.15 logs for the same file (checked by starting it on each), and what it accepts,
/// psyncd accepts.
/// </summary>
public class AofManifestTests
{
    private static AofManifestException Refused(string text) =>
        Assert.Throws<AofManifestException>(() => AofManifest.Parse(text))!;

    [TestCase("", "Found an empty AOF manifest")]
    [TestCase("file appendonly.aof.1.incr.aof seq 1 type i", "The AOF manifest file contains too long line")]
    public void FaultsOfTheWholeFileNameNoLine(string text, string message)
    {
        var e = Refused(text);
        Assert.That((e.Message, e.Line), Is.EqualTo((message, 0)));
    }

    [Test]
    public void ALineLongerThanRedissLineBufferIsTooLong()
    {
        string name = new('a', 1100);
        var e = Refused("file " + name + " seq 1 type i\n");
        Assert.That((e.Message, e.Line), Is.EqualTo(("The AOF manifest file contains too long line", 0)));
        Assert.That(AofManifest.Parse("file " + new string('a', 1000) + " seq 1 type i\n").Incr, Has.Count.EqualTo(1), "1,024 bytes with the newline still fit");
    }

    [TestCase("file a seq 1 type i\n\n", 2, "", "Invalid AOF manifest file format")]
    [TestCase("file a seq 1 type i\n   \t\n", 2, "", "Invalid AOF manifest file format")]
    [TestCase("file a seq 1 type\n", 1, "file a seq 1 type", "Invalid AOF manifest file format")]
    [TestCase("file a seq 1 type i x\n", 1, "file a seq 1 type i x", "Invalid AOF manifest file format")]
    [TestCase("file \"a seq 1 type i\n", 1, "file \"a seq 1 type i", "Invalid AOF manifest file format")]
    [TestCase("file a seq 0 type i\n", 1, "file a seq 0 type i", "Invalid AOF manifest file format")]
    [TestCase("file a seq x type i\n", 1, "file a seq x type i", "Invalid AOF manifest file format")]
    [TestCase("name a seq 1 type i\n", 1, "name a seq 1 type i", "Invalid AOF manifest file format")]
    [TestCase("file a/b seq 1 type i\n", 1, "file a/b seq 1 type i", "File can't be a path, just a filename")]
    [TestCase("file a\\\\b seq 1 type i\n", 1, "file a\\\\b seq 1 type i", "File can't be a path, just a filename")]
    [TestCase("file a seq 1 type b\nfile b seq 2 type b\n", 2, "file b seq 2 type b", "Found duplicate base file information")]
    [TestCase("file a seq 2 type i\nfile b seq 2 type i\n", 2, "file b seq 2 type i", "Found a non-monotonic sequence number")]
    [TestCase("file a seq -3 type i\n", 1, "file a seq -3 type i", "Found a non-monotonic sequence number")]
    [TestCase("file a seq 1 type xyz\n", 1, "file a seq 1 type xyz", "Unknown AOF file type")]
    [TestCase("# a comment\nfile a seq 1 type i\r\n\tfile b seq 1 type q  \n", 3, "file b seq 1 type q", "Unknown AOF file type")]
    public void AFaultyLineIsRefusedWithItsNumberAndText(string text, int line, string shown, string message)
    {
        var e = Refused(text);
        Assert.That((e.Message, e.Line, e.Text), Is.EqualTo((message, line, shown)));
    }

    [Test]
    public void WhatRedisAcceptsIsRead()
    {
        var m = AofManifest.Parse(
            "# comments are skipped\n" +
            "FILE appendonly.aof.2.base.rdb SEQ 2 TYPE base\n" +           // keys in any case; the type's first letter
            "file appendonly.aof.1.base.rdb seq 1 type h\n" +
            "file appendonly.aof.3.incr.aof seq 3x type i\r\n" +            // seq read as atoll reads it; CRLF
            "file \"appendonly.aof.4.incr.aof\" seq 4 type i startoffset 5 endoffset 9\n" + // quoted; keys of later Redis ignored
            "# a last comment without a newline");
        Assert.That(m.Base!.Name, Is.EqualTo("appendonly.aof.2.base.rdb"));
        Assert.That((m.Base.Seq, m.BaseSeq), Is.EqualTo((2, 2)));
        Assert.That(m.History.Select(h => h.Name), Is.EqualTo(new[] { "appendonly.aof.1.base.rdb" }));
        Assert.That(m.Incr.Select(i => (i.Name, i.Seq)), Is.EqualTo(new[] { ("appendonly.aof.3.incr.aof", 3L), ("appendonly.aof.4.incr.aof", 4L) }));
        Assert.That(AofManifest.Parse("# only comments\n").Base, Is.Null, "a manifest of comments lists no file");
    }

    [Test]
    public void KeysRedisDoesNotKnowAreIgnoredAndNotWrittenBack()
    {
        var m = AofManifest.Parse("file a.1.incr.aof seq 1 type i startoffset 5 foo bar psyncd-offset 41 psyncd-replid abc\n");
        Assert.That((m.Incr[0].StartOffset, m.Incr[0].ReplId), Is.EqualTo((41L, "abc")), "psyncd's own keys are read");
        Assert.That(m.Format(), Is.EqualTo("file a.1.incr.aof seq 1 type i psyncd-offset 41 psyncd-replid abc\n"),
            "as redis-server 7.0, a rewritten manifest holds only the keys it knows");
    }

    [TestCase("my file.aof.1.incr.aof", "\"my file.aof.1.incr.aof\"")]
    [TestCase("q\"uote.1.incr.aof", "\"q\\\"uote.1.incr.aof\"")]
    [TestCase("tab\t.1.incr.aof", "\"tab\\t.1.incr.aof\"")]
    [TestCase("caf\u00e9.1.incr.aof", "\"caf\\xc3\\xa9.1.incr.aof\"")]
    [TestCase("plain.1.incr.aof", "plain.1.incr.aof")]
    [TestCase("single'quote.1.incr.aof", "\"single'quote.1.incr.aof\"")] // redis-server writes it bare, and cannot read it back
    public void NamesAreQuotedAsRedisQuotesThemAndReadBack(string name, string written)
    {
        var m = new AofManifest();
        m.Incr.Add(new AofFileInfo(name, 1, AofFileType.Incr));
        string text = m.Format();
        Assert.That(text, Is.EqualTo("file " + written + " seq 1 type i\n"));
        Assert.That(AofManifest.Parse(Encoding.UTF8.GetBytes(text)).Incr[0].Name, Is.EqualTo(name));
    }

    [Test]
    public void HistoryFilesKeepTheirNumbersFromReuse()
    {
        var m = AofManifest.Parse("file p.3.base.rdb seq 3 type b\nfile p.2.base.rdb seq 2 type h\nfile p.7.incr.aof seq 7 type h\nfile p.8.incr.aof seq 8 type i\n");
        Assert.That((m.BaseSeq, m.IncrSeq), Is.EqualTo((3L, 8L)));
        m = AofManifest.Parse("file p.1.base.rdb seq 1 type b\nfile p.9.incr.aof seq 9 type h\n");
        Assert.That(m.IncrSeq, Is.EqualTo(9), "the next incremental file is not named like a history file");
    }
}
