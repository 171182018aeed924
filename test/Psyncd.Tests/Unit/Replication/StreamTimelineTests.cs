using System.Diagnostics;
using Psyncd.Replication;

namespace Psyncd.Tests.Unit.Replication;

/// <summary>The (offset, time) marks a master reads a replica's lag_ms from.</summary>
public class StreamTimelineTests
{
    private static readonly long s_ms = Stopwatch.Frequency / 1000;

    [Test]
    public void AByteIsAsOldAsTheNewestMarkAtOrBeforeIt()
    {
        var timeline = new StreamTimeline();
        timeline.Mark(1, 1000 * s_ms);
        timeline.Mark(100, 1010 * s_ms);
        timeline.Mark(200, 1030 * s_ms);
        long now = 1050 * s_ms;
        Assert.That(timeline.AgeMs(1, now), Is.EqualTo(50));
        Assert.That(timeline.AgeMs(99, now), Is.EqualTo(50));
        Assert.That(timeline.AgeMs(100, now), Is.EqualTo(40));
        Assert.That(timeline.AgeMs(150, now), Is.EqualTo(40));
        Assert.That(timeline.AgeMs(200, now), Is.EqualTo(20));
        Assert.That(timeline.AgeMs(5000, now), Is.EqualTo(20), "bytes after the last mark were written after it");
    }

    [Test]
    public void BytesWrittenWithinAMillisecondOfTheLastMarkShareIt()
    {
        var timeline = new StreamTimeline();
        timeline.Mark(1, 1000 * s_ms);
        timeline.Mark(100, 1000 * s_ms + s_ms / 2);
        Assert.That(timeline.AgeMs(100, 1010 * s_ms), Is.EqualTo(10), "never younger than it is: the earlier mark stands");
    }

    [Test]
    public void TheRingKeepsTheNewestMarksAndBoundsOlderBytesByTheOldest()
    {
        var timeline = new StreamTimeline();
        int marks = StreamTimeline.Capacity + 100;
        for (int i = 0; i < marks; i++)
            timeline.Mark(1 + 10L * i, i * s_ms);
        long now = marks * s_ms;
        Assert.That(timeline.AgeMs(1 + 10L * (marks - 1), now), Is.EqualTo(1));
        Assert.That(timeline.AgeMs(1 + 10L * 100, now), Is.EqualTo(marks - 100), "the oldest mark kept");
        Assert.That(timeline.AgeMs(1, now), Is.EqualTo(marks - 100), "older than the ring: as old as its oldest mark, at least");
    }

    [Test]
    public void AnOffsetGoingBackStartsANewHistory()
    {
        var timeline = new StreamTimeline();
        timeline.Mark(1000, 1 * s_ms);
        timeline.Mark(5, 500 * s_ms);
        Assert.That(timeline.AgeMs(1000, 600 * s_ms), Is.EqualTo(100), "the old marks are gone");
    }

    [Test]
    public void AnEmptyTimelineSaysZero()
    {
        Assert.That(new StreamTimeline().AgeMs(1, 123 * s_ms), Is.EqualTo(0));
    }
}
