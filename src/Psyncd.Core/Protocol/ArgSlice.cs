namespace Psyncd.Protocol;

/// <summary>One argument of a parsed request: a range of the buffer the request was parsed from.</summary>
public readonly record struct ArgSlice(int Offset, int Length);
