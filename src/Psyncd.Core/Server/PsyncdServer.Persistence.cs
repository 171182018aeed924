using System.Diagnostics;
using System.Globalization;

namespace Psyncd.Server;

/// <summary>
/// Persistence: loading the RDB at startup, SAVE, BGSAVE (a background snapshot that never stops the loop for
/// long), save points, saving at shutdown, DEBUG RELOAD, and the state INFO persistence reports.
/// </summary>
/// <remarks>
/// A save writes <c>temp-&lt;pid&gt;.rdb</c> in <c>dir</c>, fsyncs it and renames it over <c>dbfilename</c>, so a
/// crash mid-save never damages the previous dump.
/// </remarks>
public sealed partial class PsyncdServer
{
    partial void OnStartedCore()
    {
        AddCronJob(RdbPersistence.CheckSavePoints);
        RdbPersistence.LoadAtStartup();
    }
}
