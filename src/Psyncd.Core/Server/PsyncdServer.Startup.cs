using System.Globalization;
using Psyncd.Diagnostics;

namespace Psyncd.Server;

/// <summary>What the server says and tidies once its listeners are bound, before it loads data (as redis-server does).</summary>
public sealed partial class PsyncdServer
{
    private void AnnounceStartup()
    {
        string port = Options.Port.ToString(CultureInfo.InvariantCulture);
        // As redis-server 7: the banner when asked for (or on a terminal), else one line with the same facts.
        if (Options.AlwaysShowLogo || (Options.LogFile.Length == 0 && !Console.IsOutputRedirected))
        {
            Log.Notice("psyncd " + ServerIdentity.Version + " (Redis " + ServerIdentity.RedisVersion + " compatible) 64 bit");
            Log.Notice("Running in standalone mode");
            Log.Notice("Port: " + port);
            Log.Notice("PID: " + Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
        }
        else
        {
            Log.Notice("Running mode=standalone, port=" + port + ".");
        }
        Log.Warning("Server initialized");
        if (Options.ProtectedMode && Options.RequirePass.Length == 0)
            Log.Notice("Protected mode is on and no password is set: only clients on 127.0.0.1, ::1 or the Unix socket are served. " +
                       "Set requirepass, or protected-mode no, to serve other hosts.");
        RdbPersistence.RemoveStaleTempFiles();
    }
}
