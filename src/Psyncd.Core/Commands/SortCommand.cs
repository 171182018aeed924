namespace Psyncd.Commands;

/// <summary>SORT.</summary>
internal static class SortCommand
{
    public static void Register(CommandTable table)
    {
    }
}
