using System.Text;
using Psyncd.Commands;
using Psyncd.Config;
using Psyncd.Execution;
using Psyncd.Protocol;

namespace Psyncd.Tests.Unit.Execution;

/// <summary>The command table the dispatcher looks every request up in: names, rename-command, arities, key positions.</summary>
public class CommandTableTests
{
    private static readonly Action<CommandTable>[] s_families =
    {
        StringCommands.Register, KeyCommands.Register, ListCommands.Register, HashCommands.Register, SetCommands.Register, SortedSetCommands.Register,
        table =>
        {
            table.Add("config", -2, CommandFlags.Admin, Nothing);
            table.AddSubcommands("config", ("get", -3), ("set", -4));
        },
    };

    [Test]
    public void EveryCommandIsFoundFromItsBytesInAnyCase()
    {
        var table = CommandTable.Create(s_families);
        Assert.That(table.Count, Is.GreaterThan(100));
        foreach (var command in table.All)
        {
            Assert.That(table.Find(command.NameBytes), Is.SameAs(command), command.Name);
            Assert.That(table.Find(Encoding.ASCII.GetBytes(command.Name.ToUpperInvariant())), Is.SameAs(command), command.Name);
            Assert.That(table.Find(Encoding.ASCII.GetBytes(MixedCase(command.Name))), Is.SameAs(command), command.Name);
        }
    }

    [Test]
    public void UnknownEmptyAndOverlongNamesAreNotFound()
    {
        var table = CommandTable.Create(s_families);
        Assert.That(table.Find("nosuchcommand"u8), Is.Null);
        Assert.That(table.Find(ReadOnlySpan<byte>.Empty), Is.Null);
        Assert.That(table.Find(Encoding.ASCII.GetBytes(new string('x', 10_000))), Is.Null);
        Assert.That(table.Find("sett"u8), Is.Null);
        Assert.That(table.Find("se"u8), Is.Null);
    }

    [Test]
    public void RenameCommandMovesACommandAndAnEmptyNameRemovesIt()
    {
        var table = CommandTable.Create(s_families, new[] { ("set", "my-set"), ("get", ""), ("config", "cfg") });
        var original = CommandTable.Create(s_families);
        Assert.That(table.Find("set"u8), Is.Null);
        Assert.That(table.Find("get"u8), Is.Null);
        var renamed = table.Find("MY-SET"u8)!;
        var set = original.Find("set"u8)!;
        Assert.That(renamed, Is.Not.Null);
        Assert.That((renamed.Arity, renamed.Flags, renamed.FirstKey, renamed.LastKey, renamed.Step, renamed.Handler),
            Is.EqualTo((set.Arity, set.Flags, set.FirstKey, set.LastKey, set.Step, set.Handler)));
        Assert.That(table.Find("cfg"u8)!.TryFindSubcommand("GET"u8, out var get), Is.True, "subcommands go with the command");
        Assert.That(get.Arity, Is.EqualTo(-3));
        Assert.That(table.Count, Is.EqualTo(original.Count - 1));
        Assert.That(() => CommandTable.Create(s_families, new[] { ("nosuchcommand", "x") }), Throws.InstanceOf<ConfigException>());
    }

    [Test]
    public void ANameRegisteredTwiceIsRefused()
    {
        Assert.That(() => CommandTable.Create(new Action<CommandTable>[] { StringCommands.Register, StringCommands.Register }),
            Throws.InvalidOperationException);
    }

    /// <summary>Arity and key positions as redis-server 7.0.15's COMMAND INFO gives them.</summary>
    [TestCase("set", -3, 1, 1, 1)]
    [TestCase("get", 2, 1, 1, 1)]
    [TestCase("mset", -3, 1, -1, 2)]
    [TestCase("mget", -2, 1, -1, 1)]
    [TestCase("del", -2, 1, -1, 1)]
    [TestCase("incr", 2, 1, 1, 1)]
    [TestCase("expire", -3, 1, 1, 1)]
    [TestCase("rename", 3, 1, 2, 1)]
    [TestCase("lpush", -3, 1, 1, 1)]
    [TestCase("hset", -4, 1, 1, 1)]
    [TestCase("sadd", -3, 1, 1, 1)]
    [TestCase("zadd", -4, 1, 1, 1)]
    public void DescriptorsMatchRedis7(string name, int arity, int firstKey, int lastKey, int step)
    {
        var command = CommandTable.Create(s_families).Find(name)!;
        Assert.That((command.Arity, command.FirstKey, command.LastKey, command.Step), Is.EqualTo((arity, firstKey, lastKey, step)));
    }

    [Test]
    public void ArityAcceptsExactlyOrAtLeast()
    {
        var table = CommandTable.Create(s_families);
        var get = table.Find("get"u8)!;
        Assert.That(new[] { 1, 2, 3 }.Select(get.AcceptsArgCount), Is.EqualTo(new[] { false, true, false }));
        var set = table.Find("set"u8)!;
        Assert.That(new[] { 2, 3, 4, 9 }.Select(set.AcceptsArgCount), Is.EqualTo(new[] { false, true, true, true }));
    }

    [Test]
    public void SubcommandsAreFoundInAnyCase()
    {
        var config = CommandTable.Create(s_families).Find("config"u8)!;
        Assert.That(config.TryFindSubcommand("Set"u8, out var set), Is.True);
        Assert.That(set.Arity, Is.EqualTo(-4));
        Assert.That(config.TryFindSubcommand("rewrite"u8, out _), Is.False);
    }

    private static void Nothing(CommandContext ctx, in CommandArgs args)
    {
    }

    private static string MixedCase(string name) =>
        string.Concat(name.Select((c, i) => i % 2 == 0 ? char.ToUpperInvariant(c) : c));
}
