namespace Psyncd.Replication;

/// <summary>
/// What replication needs from persistence: a point-in-time snapshot written as an RDB file (the
/// full-sync payload), and loading a received RDB file in place of the dataset. Persistence implements
/// it; both calls are made inside the command loop.
/// </summary>
public interface IRdbService
{
    /// <summary>True while a snapshot (BGSAVE) is being written.</summary>
    bool SnapshotInProgress { get; }

    /// <summary>
    /// Starts a background snapshot into a new file of <c>dir</c> carrying <paramref name="aux"/> as AUX
    /// fields (repl-id, repl-offset, repl-stream-db). The snapshot's instant is this call. When the file
    /// is complete (or failed), <paramref name="done"/> runs inside the loop with its path, or null and
    /// the reason. Returns false (and never calls <paramref name="done"/>) when a snapshot is running.
    /// </summary>
    bool TryStartSnapshot(IReadOnlyList<KeyValuePair<string, string>> aux, Action<string?, string?> done);

    /// <summary>
    /// Takes a snapshot's instant now and returns a writer that streams the whole RDB (header with
    /// <paramref name="aux"/>, keys, EOF, checksum) to a stream, to be called outside the loop (diskless
    /// full sync). Null when a snapshot is running.
    /// </summary>
    Action<Stream>? TryStartStreaming(IReadOnlyList<KeyValuePair<string, string>> aux);

    /// <summary>
    /// Replaces the whole dataset with the RDB file at <paramref name="path"/> and returns its AUX fields.
    /// Throws when the file cannot be loaded (<see cref="Persistence.RdbCorruptException"/> for bad or unsupported
    /// data); the dataset then holds what was loaded before the failure, which the caller must discard. The
    /// caller holds the loop once: the load leaves it now and then, so that other clients get -LOADING.
    /// </summary>
    IReadOnlyDictionary<string, string> LoadReplacingDataset(string path);
}
