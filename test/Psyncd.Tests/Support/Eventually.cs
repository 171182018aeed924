using System.Diagnostics;

namespace Psyncd.Tests.Support;

/// <summary>Polls a condition until it holds or a deadline passes; never a bare sleep.</summary>
public static class Eventually
{
    public static void True(Func<bool> condition, TimeSpan timeout, string because)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (condition())
                return;
            if (watch.Elapsed > timeout)
                Assert.Fail("Timed out after " + timeout.TotalSeconds + " s waiting until " + because);
            Thread.Sleep(20);
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
