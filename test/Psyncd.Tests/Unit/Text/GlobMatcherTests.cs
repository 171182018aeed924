using System.Text;
using Psyncd.Text;

namespace Psyncd.Tests.Unit.Text;

public class GlobMatcherTests
{
    [TestCase("*", "", false)] // as stringmatchlen: callers treat a lone "*" as "everything" before matching
    [TestCase("*", "anything", true)]
    [TestCase("h?llo", "hello", true)]
    [TestCase("h?llo", "hllo", false)]
    [TestCase("h*llo", "heeeello", true)]
    [TestCase("h[ae]llo", "hallo", true)]
    [TestCase("h[ae]llo", "hillo", false)]
    [TestCase("h[^e]llo", "hallo", true)]
    [TestCase("h[^e]llo", "hello", false)]
    [TestCase("h[a-b]llo", "hbllo", true)]
    [TestCase("h[b-a]llo", "hallo", true)]
    [TestCase("h\\*llo", "h*llo", true)]
    [TestCase("h\\*llo", "hello", false)]
    [TestCase("a*b*c", "axxbyyc", true)]
    [TestCase("a*b*c", "axxbyy", false)]
    [TestCase("key:*", "key:1", true)]
    [TestCase("*x", "abc", false)]
    [TestCase("abc*", "abc", true)]
    [TestCase("[abc", "a", true)]
    public void MatchesLikeRedis(string pattern, string subject, bool expected)
        => Assert.That(GlobMatcher.IsMatch(Encoding.ASCII.GetBytes(pattern), Encoding.ASCII.GetBytes(subject)), Is.EqualTo(expected));

    [Test]
    public void PathologicalPatternsTerminate()
    {
        var pattern = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("a*", 30)) + "b");
        var subject = Encoding.ASCII.GetBytes(new string('a', 60));
        Assert.That(GlobMatcher.IsMatch(pattern, subject), Is.False);
    }
}
