namespace Psyncd.Admin;

/// <summary>Stopping the server (SHUTDOWN; the host's SIGTERM and SIGINT too): declared here, implemented by the root.</summary>
public interface IShutdown
{
    /// <summary>
    /// Shuts the server down (inside the loop): saves first when <paramref name="save"/> says so, or when it is
    /// null and save points are configured; a failed save keeps the server running unless <paramref name="force"/>.
    /// Returns false when it keeps running.
    /// </summary>
    bool Shutdown(bool? save, bool force, string reason);
}
