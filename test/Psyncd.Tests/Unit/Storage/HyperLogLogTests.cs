using System.Text;
using Psyncd.Storage.Types;

namespace Psyncd.Tests.Unit.Storage;

/// <summary>The HyperLogLog sketch in process: its self test, the sparse limit, and PFADD's editing without allocation.</summary>
public class HyperLogLogTests
{
    [Test]
    public void SelfTestPasses()
    {
        Assert.That(HyperLogLog.SelfTest(), Is.Null);
    }

    [Test]
    public void NewHyperLogLogIsOneXZero()
    {
        var editor = new HyperLogLog.Editor();
        editor.LoadEmpty();
        Assert.That(Convert.ToHexString(editor.Value), Is.EqualTo("48594C4C" + "01" + "000000" + "0000000000000000" + "7FFF"));
        Assert.That(HyperLogLog.DescribeSparse(editor.Value), Is.EqualTo("Z:16384"));
    }

    [Test]
    public void SparseStaysWithinItsLimitThenBecomesDense()
    {
        var editor = new HyperLogLog.Editor();
        editor.LoadEmpty();
        int n = 0;
        while (editor.IsSparse)
        {
            Assert.That(editor.Add(Encoding.ASCII.GetBytes("element-" + n++), 500), Is.Not.Negative);
            if (editor.IsSparse)
                Assert.That(editor.Value.Length, Is.LessThanOrEqualTo(500));
        }
        Assert.That(editor.Value.Length, Is.EqualTo(HyperLogLog.DenseSize));
        Assert.That(n, Is.GreaterThan(50), "a 500-byte sparse string holds more than a few dozen registers");
    }

    [Test]
    public void AddingToAWarmEditorAllocatesNothing()
    {
        var editor = new HyperLogLog.Editor();
        var elements = Enumerable.Range(0, 2000).Select(i => Encoding.ASCII.GetBytes("member:" + i)).ToArray();
        // The first pass compiles every path (sparse edits, promotion, dense); the later ones are measured. Every pass
        // runs the same elements down the same paths, so an allocation of the editor's shows in each of them; the
        // least of three is taken because the runtime itself may allocate once on this thread while a method is
        // promoted to its optimized code (seen once in a full run on a loaded machine).
        foreach (var limit in new long[] { 3000, 0 })
        {
            long least = long.MaxValue;
            for (int pass = 0; pass < 4; pass++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                editor.LoadEmpty();
                foreach (var element in elements)
                    editor.Add(element, limit);
                editor.InvalidateCache();
                long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                Assert.That(editor.IsSparse, Is.False, "2000 elements make it dense");
                if (pass > 0)
                    least = Math.Min(least, allocated);
            }
            Assert.That(least, Is.Zero, "limit " + limit);
        }
    }
}
