using System.Security.Cryptography;

namespace Psyncd.Server;

/// <summary>The replication history's identity, as INFO replication and PSYNC report it.</summary>
public sealed partial class PsyncdServer
{
    /// <summary>The current replication ID (40 hex characters; master_replid).</summary>
    public string ReplId { get; set; } = Convert.ToHexString(RandomNumberGenerator.GetBytes(20)).ToLowerInvariant();

    /// <summary>The previous replication ID, valid up to <see cref="SecondReplOffset"/> (master_replid2); all zeros when none.</summary>
    public string ReplId2 { get; set; } = new('0', 40);

    /// <summary>The offset up to which <see cref="ReplId2"/> is valid, or -1 (second_repl_offset).</summary>
    public long SecondReplOffset { get; set; } = -1;
}
