using Psyncd.Execution;
using Psyncd.Protocol;

namespace Psyncd.Server;

/// <summary>The checks every command passes before it runs, and the keyspace's events.</summary>
public sealed partial class PsyncdServer
{
    public bool Loading
    {
        get => Dataset.Loading;
        set => Dataset.Loading = value;
    }

    public bool LastBgsaveFailed
    {
        get => Dataset.LastBgsaveFailed;
        set => Dataset.LastBgsaveFailed = value;
    }

    public int GoodReplicaCount => Role.GoodReplicaCount;

    public bool MasterLinkUp => Role.MasterLinkUp;



    internal string? CheckCommandAllowed(Client client, CommandDescriptor cmd, in CommandArgs args) => Processor.CheckAllowed(client, cmd, args);

    public long UsedMemory() => Memory.UsedMemory();




}

