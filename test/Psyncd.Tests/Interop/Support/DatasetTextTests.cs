using Psyncd.Tests.Support;

namespace Psyncd.Tests.Interop.Support;

/// <summary>The dataset text that converge-then-compare tests and scripts/torture compare across servers.</summary>
[TestFixture]
public sealed class DatasetTextTests
{
    [Test]
    public void HyperLogLogsOfTheSameElementsDescribeAlikeOnPsyncdAndRedisWhenReadByRegisters()
    {
        using var psyncd = ServerProcess.StartPsyncd();
        using var redis = ServerProcess.StartRedis();
        foreach (var port in new[] { psyncd.Port, redis.Port })
        {
            using var c = new RawClient(port);
            c.Call("SELECT", "3");
            c.Call("PFADD", "small", "a", "b", "c");
            c.Call(new[] { "PFADD", "large" }.Concat(Enumerable.Range(0, 5000).Select(i => "e" + i)).ToArray());
            c.Call("PFMERGE", "merged", "small", "large");
        }
        string p = DatasetText.Describe(psyncd.Port, hyperLogLogsByRegisters: true);
        string r = DatasetText.Describe(redis.Port, hyperLogLogsByRegisters: true);
        Assert.That(p, Is.EqualTo(r));
        Assert.That(p, Does.Contain("3 string small = HLL{"), "read as registers, not bytes");
        // A register-level difference still shows: one more element changes some register.
        using (var c = new RawClient(redis.Port))
        {
            c.Call("SELECT", "3");
            c.Call("PFADD", "small", "d", "e", "f", "g");
        }
        Assert.That(DatasetText.Describe(redis.Port, hyperLogLogsByRegisters: true), Is.Not.EqualTo(p));
    }
}
