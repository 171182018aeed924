using System.Diagnostics;

namespace Psyncd.Tests.Support;

/// <summary>Polls a condition until it holds or a deadline passes; never a bare sleep.</summary>
public static class Eventually
{
    public static void True(Func<bool> condition, TimeSpan timeout, string because)
    {
        if (!Within(condition, timeout))
            Assert.Fail("Timed out after " + timeout.TotalSeconds + " s waiting until " + because);
    }

    /// <summary>Polls until the condition holds (true) or the timeout passes (false), for callers that report the failure themselves.</summary>
    public static bool Within(Func<bool> condition, TimeSpan timeout, TimeSpan? poll = null)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (condition())
                return true;
            if (watch.Elapsed > timeout)
                return false;
            Thread.Sleep(poll ?? TimeSpan.FromMilliseconds(20));
        }
    }

    public static async Task TrueAsync(Func<Task<bool>> condition, TimeSpan timeout, string because)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (await condition())
                return;
            if (watch.Elapsed > timeout)
                Assert.Fail("Timed out after " + timeout.TotalSeconds + " s waiting until " + because);
            await Task.Delay(20);
        }
    }
}
