using System.Runtime.InteropServices;
using Psyncd.Tests.Support;
using Psyncd.Torture;

// scripts/torture: a seeded fault-injection run over psyncd and redis-server replication topologies.
var options = TortureOptions.Parse(args);
if (options is null)
    return args.Contains("--help") || args.Contains("-h") ? 0 : 2;
if (options.Mix != NodeMix.Psyncd && Tools.Find("redis-server") is null)
{
    Console.Error.WriteLine("torture: redis-server is not installed (apt-get install -y redis-server), or run with --mix psyncd");
    return 2;
}

var runner = new Runner(options);

// Whatever ends the harness, the servers it started go with it (by PID), and what it counted is printed.
void Interrupted(PosixSignalContext context)
{
    Node.KillAll();
    Console.WriteLine(runner.Interrupted(context.Signal.ToString()));
}
using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Interrupted);
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Interrupted);
using var sighup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, Interrupted);
AppDomain.CurrentDomain.ProcessExit += (_, _) => Node.KillAll();
AppDomain.CurrentDomain.UnhandledException += (_, _) => Node.KillAll();

return runner.Run();
