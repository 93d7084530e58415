namespace OnDemand.ConcourseEmulator;

/// <summary>One request the emulator received.</summary>
/// <param name="StatusCode">what the client got; 0 when the connection was aborted without an answer.</param>
/// <param name="Fault">the injected fault that shaped the answer ("fail", "hang", "lost-response"), or null.</param>
public sealed record RequestLogEntry(DateTimeOffset At, string Method, string Path, int StatusCode, string? Fault);
