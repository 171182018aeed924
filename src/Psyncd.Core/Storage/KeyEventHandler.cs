namespace Psyncd.Storage;

/// <summary>A change to one key, as subsystems (WATCH, blocked clients, notifications) hear of it.</summary>
public delegate void KeyEventHandler(int db, ReadOnlySpan<byte> key);
