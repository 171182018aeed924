namespace Psyncd.Torture;

/// <summary>Which servers a round's positions may run.</summary>
public enum NodeMix
{
    /// <summary>Each position psyncd or redis-server at random, at least one psyncd per round.</summary>
    Mixed,
    Psyncd,
    Redis,
}

/// <summary>The command line of scripts/torture.</summary>
public sealed class TortureOptions
{
    public int Seed { get; set; } = Random.Shared.Next(1, int.MaxValue);

    public int Cycles { get; set; } = 20;

    /// <summary>The first cycle to run (rounded down to its round's first cycle), to replay a late failure quickly.</summary>
    public int FromCycle { get; set; } = 1;

    /// <summary>Cycles run on one topology before its nodes are torn down and a new one is drawn.</summary>
    public int CyclesPerRound { get; set; } = 5;

    public NodeMix Mix { get; set; } = NodeMix.Mixed;

    /// <summary>How long writers run in a cycle around its fault (seconds).</summary>
    public double WriteSeconds { get; set; } = 2.0;

    /// <summary>Bound on the wait for every link up and equal offsets after a cycle (seconds).</summary>
    public int ConvergeTimeout { get; set; } = 60;

    /// <summary>repl-timeout given to every node (seconds); stalls last longer than this.</summary>
    public int ReplTimeout { get; set; } = 4;

    /// <summary>Commands per second per writer (two writers and a blocking pair run).</summary>
    public int Rate { get; set; } = 600;

    /// <summary>Only these faults (names as printed), or every fault when empty.</summary>
    public List<string> Faults { get; } = new();

    public string? RunDir { get; set; }

    /// <summary>Keep the run directory (node files and logs) even when nothing failed.</summary>
    public bool Keep { get; set; }

    /// <summary>Stop at the first divergence or convergence failure instead of going on with a new topology.</summary>
    public bool StopOnFailure { get; set; }

    public bool Verbose { get; set; }

    public const string Usage = """
        usage: scripts/torture [options]
          --seed N               seed of the run (default: random; printed, replays the same faults)
          --cycles M             cycles to run (default 20)
          --from-cycle C         start at cycle C's round (a replay of a late failure; printed with it)
          --cycles-per-round K   cycles on one topology before a new one is drawn (default 5)
          --mix mixed|psyncd|redis   servers at each position (default mixed: at least one psyncd)
          --write-seconds S      writes per cycle around the fault (default 2)
          --converge-timeout S   bound on the wait for links up and equal offsets (default 60)
          --repl-timeout S       repl-timeout of every node (default 4)
          --rate R               commands per second per writer (default 600)
          --faults a,b,...       only these faults (default all; names as in the summary)
          --run-dir DIR          where node directories and logs go (default $TMPDIR/psyncd-torture/SEED-TIME)
          --keep                 keep the run directory when nothing failed
          --stop-on-failure      stop at the first failure (default: go on with a new topology)
          --verbose              print each fault's steps
        """;

    /// <summary>Parses the arguments; null (after printing why) when they are wrong or --help was asked.</summary>
    public static TortureOptions? Parse(string[] args)
    {
        var options = new TortureOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            string Value()
            {
                if (i + 1 >= args.Length)
                    throw new ArgumentException(arg + " needs a value");
                return args[++i];
            }
            try
            {
                switch (arg)
                {
                    case "--seed": options.Seed = int.Parse(Value()); break;
                    case "--cycles": options.Cycles = int.Parse(Value()); break;
                    case "--from-cycle": options.FromCycle = Math.Max(1, int.Parse(Value())); break;
                    case "--cycles-per-round": options.CyclesPerRound = Math.Max(1, int.Parse(Value())); break;
                    case "--mix": options.Mix = Enum.Parse<NodeMix>(Value(), ignoreCase: true); break;
                    case "--write-seconds": options.WriteSeconds = double.Parse(Value(), System.Globalization.CultureInfo.InvariantCulture); break;
                    case "--converge-timeout": options.ConvergeTimeout = int.Parse(Value()); break;
                    case "--repl-timeout": options.ReplTimeout = Math.Max(1, int.Parse(Value())); break;
                    case "--rate": options.Rate = Math.Max(1, int.Parse(Value())); break;
                    case "--faults": options.Faults.AddRange(Value().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)); break;
                    case "--run-dir": options.RunDir = Value(); break;
                    case "--keep": options.Keep = true; break;
                    case "--stop-on-failure": options.StopOnFailure = true; break;
                    case "--verbose": options.Verbose = true; break;
                    case "--help" or "-h":
                        Console.WriteLine(Usage);
                        return null;
                    default:
                        throw new ArgumentException("unknown option " + arg);
                }
            }
            catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
            {
                Console.Error.WriteLine("torture: " + e.Message);
                Console.Error.WriteLine(Usage);
                return null;
            }
        }
        foreach (var name in options.Faults)
        {
            if (!FaultNames.All.Contains(name))
            {
                Console.Error.WriteLine("torture: unknown fault " + name + " (known: " + string.Join(", ", FaultNames.All) + ")");
                return null;
            }
        }
        return options;
    }
}
