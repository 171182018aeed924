using System.Runtime.CompilerServices;
using System.Text;
using Psyncd.Config;

namespace Psyncd.Execution;

/// <summary>
/// The command table: every command by name, looked up from the request's name bytes without allocating
/// (case-insensitive, open addressing over a power-of-two array). Built once at startup from the command
/// families, then renamed or pruned per <c>rename-command</c>.
/// </summary>
public sealed class CommandTable
{
    private CommandDescriptor?[] _slots = new CommandDescriptor?[512];
    private readonly Dictionary<string, CommandDescriptor> _byName = new(StringComparer.OrdinalIgnoreCase);
    private int _maxNameLength;

    /// <summary>Builds the table of all commands, applying <c>rename-command</c> pairs (an empty new name removes the command).</summary>
    public static CommandTable Create(IEnumerable<Action<CommandTable>> families, IEnumerable<(string From, string To)>? renames = null)
    {
        var table = new CommandTable();
        table.Build(families, renames);
        return table;
    }

    /// <summary>Registers the families, applies <c>rename-command</c> pairs, and builds the lookup (once, before serving).</summary>
    public void Build(IEnumerable<Action<CommandTable>> families, IEnumerable<(string From, string To)>? renames = null)
    {
        foreach (var register in families)
            register(this);
        if (renames is not null)
        {
            foreach (var (from, to) in renames)
                Rename(from, to);
        }
        Rebuild();
    }

    /// <summary>Every command, in registration order of names (COMMAND, COMMAND COUNT).</summary>
    public IEnumerable<CommandDescriptor> All => _byName.Values;

    public int Count => _byName.Count;

    /// <summary>Adds a command; a family's Register method calls this for each of its commands.</summary>
    public void Add(string name, int arity, CommandFlags flags, CommandHandler handler, int firstKey = 0, int lastKey = 0, int step = 0)
    {
        var descriptor = new CommandDescriptor(name, arity, flags, handler, firstKey, lastKey, step);
        if (!_byName.TryAdd(descriptor.Name, descriptor))
            throw new InvalidOperationException("command registered twice: " + name);
    }

    /// <summary>Declares the subcommands of a container command, each with Redis 7's arity (see <see cref="CommandDescriptor.Subcommands"/>).</summary>
    public void AddSubcommands(string command, params (string Name, int Arity)[] subcommands)
        => _byName[command].Subcommands = subcommands;

    /// <summary>The command named by <paramref name="name"/> (any case), or null.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public CommandDescriptor? Find(ReadOnlySpan<byte> name)
    {
        if (name.Length == 0 || name.Length > _maxNameLength)
            return null;
        int mask = _slots.Length - 1;
        int slot = Hash(name) & mask;
        while (true)
        {
            var candidate = _slots[slot];
            if (candidate is null)
                return null;
            if (Ascii.EqualsIgnoreCase(candidate.NameBytes, name))
                return candidate;
            slot = (slot + 1) & mask;
        }
    }

    public CommandDescriptor? Find(string name) => _byName.GetValueOrDefault(name);

    private void Rename(string from, string to)
    {
        if (!_byName.Remove(from, out var descriptor))
            throw new ConfigException("No such command in rename-command");
        if (to.Length == 0)
            return;
        var renamed = new CommandDescriptor(to, descriptor.Arity, descriptor.Flags, descriptor.Handler, descriptor.FirstKey, descriptor.LastKey, descriptor.Step)
        {
            Subcommands = descriptor.Subcommands,
        };
        _byName[renamed.Name] = renamed;
    }

    private void Rebuild()
    {
        while (_slots.Length < _byName.Count * 4)
            _slots = new CommandDescriptor?[_slots.Length * 2];
        Array.Clear(_slots);
        int mask = _slots.Length - 1;
        foreach (var descriptor in _byName.Values)
        {
            int slot = Hash(descriptor.NameBytes) & mask;
            while (_slots[slot] is not null)
                slot = (slot + 1) & mask;
            _slots[slot] = descriptor;
            _maxNameLength = Math.Max(_maxNameLength, descriptor.NameBytes.Length);
        }
    }

    /// <summary>FNV-1a over the lower-cased name bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Hash(ReadOnlySpan<byte> name)
    {
        uint hash = 2166136261;
        foreach (byte b in name)
        {
            uint c = b is >= (byte)'A' and <= (byte)'Z' ? (uint)(b | 0x20) : b;
            hash = (hash ^ c) * 16777619;
        }
        return (int)(hash & 0x7FFFFFFF);
    }
}
