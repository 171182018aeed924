using Psyncd.Config;
using Psyncd.Diagnostics;

namespace Psyncd.Tests.Unit.Diagnostics;

public class LatencyMonitorTests
{
    [Test]
    public void SamplesBelowTheThresholdOrWithTheMonitorOffAreNotKept()
    {
        var options = new ServerOptions();
        var monitor = new LatencyMonitor(options);
        monitor.AddSampleIfNeeded("command", 500);
        Assert.That(monitor.Events, Is.Empty, "threshold 0 is off");
        options.LatencyMonitorThreshold = 100;
        monitor.AddSampleIfNeeded("command", 99);
        Assert.That(monitor.Events, Is.Empty);
        monitor.AddSampleIfNeeded("command", 100);
        Assert.That(monitor.Events["command"].Max, Is.EqualTo(100));
    }

    [Test]
    public void OneSampleASecondKeepsTheLargestAndTheLast160Seconds()
    {
        var monitor = new LatencyMonitor(new ServerOptions());
        monitor.AddSample("e", 10, 1000);
        monitor.AddSample("e", 30, 1000);
        monitor.AddSample("e", 20, 1000);
        Assert.That(monitor.Events["e"].Samples, Is.EqualTo(new[] { new LatencyMonitor.Sample(1000, 30) }));
        for (int s = 1; s <= 200; s++)
            monitor.AddSample("e", s, 1000 + s);
        var samples = monitor.Events["e"].Samples.ToList();
        Assert.That(samples, Has.Count.EqualTo(LatencyMonitor.HistoryLength));
        Assert.That(samples[0], Is.EqualTo(new LatencyMonitor.Sample(1041, 41)));
        Assert.That(monitor.Events["e"].Latest, Is.EqualTo(new LatencyMonitor.Sample(1200, 200)));
        Assert.That(monitor.Events["e"].Max, Is.EqualTo(200));
        Assert.That(monitor.Reset("nosuch"), Is.False);
        Assert.That(monitor.ResetAll(), Is.EqualTo(1));
        Assert.That(monitor.Events, Is.Empty);
    }
}
