using Psyncd.Persistence;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Unit.Persistence;

/// <summary>A snapshot's work goes to a thread started ahead: BGSAVE no longer starts a thread inside the loop.</summary>
public class SnapshotThreadsTests
{
    [Test]
    public void JobsOneAfterAnotherRunOnTheThreadStartedAhead()
    {
        var threads = new SnapshotThreads();
        threads.Prestart();
        Eventually.True(() => threads.Idle == 1, TimeSpan.FromSeconds(10), "the thread started ahead is parked");
        threads.Prestart();
        Assert.That(threads.Started, Is.EqualTo(1), "one is enough");
        var ran = new List<int>();
        for (int job = 0; job < 3; job++)
        {
            using var done = new ManualResetEventSlim();
            int id = job;
            threads.Run(() =>
            {
                lock (ran)
                    ran.Add(Environment.CurrentManagedThreadId);
                done.Set();
            });
            Assert.That(done.Wait(TimeSpan.FromSeconds(10)), "job " + id + " ran");
            Eventually.True(() => threads.Idle == 1, TimeSpan.FromSeconds(10), "the thread is parked again");
        }
        Assert.Multiple(() =>
        {
            Assert.That(threads.Started, Is.EqualTo(1), "no thread started for a job");
            Assert.That(ran.Distinct().Count(), Is.EqualTo(1));
            Assert.That(ran[0], Is.Not.EqualTo(Environment.CurrentManagedThreadId));
        });
    }

    [Test]
    public void AJobThatFindsEveryThreadBusyStartsAnother()
    {
        var threads = new SnapshotThreads();
        threads.Prestart();
        Eventually.True(() => threads.Idle == 1, TimeSpan.FromSeconds(10), "the thread started ahead is parked");
        using var release = new ManualResetEventSlim();
        using var bothRunning = new CountdownEvent(2);
        for (int job = 0; job < 2; job++)
        {
            threads.Run(() =>
            {
                bothRunning.Signal();
                release.Wait();
            });
        }
        Assert.That(bothRunning.Wait(TimeSpan.FromSeconds(10)), "both jobs run at once");
        release.Set();
        Eventually.True(() => threads.Idle == 2, TimeSpan.FromSeconds(10), "both threads are parked");
        Assert.That(threads.Started, Is.EqualTo(2));
    }
}
