using Psyncd.Execution;
using Psyncd.Tests.Support;

namespace Psyncd.Tests.Unit.Execution;

/// <summary>
/// The loop tells long work inside it (a snapshot's walk step) that another thread waits at its door, so that the
/// work steps aside at once instead of at the end of its time budget.
/// </summary>
public class CommandLoopWaitersTests
{
    [Test]
    public void HasWaitersIsTrueExactlyWhileAnotherThreadWaitsToEnter()
    {
        var loop = new CommandLoop();
        loop.Enter();
        Assert.That(loop.HasWaiters, Is.False, "the holder alone");
        bool entered = false;
        var waiter = new Thread(() => loop.Run(() => entered = true));
        waiter.Start();
        Eventually.True(() => loop.HasWaiters, TimeSpan.FromSeconds(10), "the second thread is seen waiting");
        Assert.That(Volatile.Read(ref entered), Is.False);
        loop.Exit();
        Assert.That(waiter.Join(TimeSpan.FromSeconds(10)), Is.True);
        Assert.That(entered, Is.True);
        Assert.That(loop.HasWaiters, Is.False, "nobody waits once it got in and left");
        loop.Run(() => Assert.That(loop.HasWaiters, Is.False, "an uncontended entry is not a waiter"));
    }
}
