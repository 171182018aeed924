namespace Psyncd.Execution;

/// <summary>Work to do after every top-level command, EXEC, or command of our master's stream (serving clients blocked on keys).</summary>
public interface IAfterCommand
{
    void AfterCommand();
}
