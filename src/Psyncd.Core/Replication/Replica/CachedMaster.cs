namespace Psyncd.Replication.Replica;

/// <summary>
/// What a replica remembers of the history it followed, to ask PSYNC to continue it: its id, the offset
/// applied, and the database the stream was in there (a +CONTINUE resumes without a SELECT).
/// </summary>
public sealed record CachedMaster(string ReplId, long Offset, int Db);
