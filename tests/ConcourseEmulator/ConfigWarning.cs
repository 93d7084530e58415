namespace OnDemand.ConcourseEmulator;

/// <summary>One entry of the "warnings" array Concourse returns from PUT config.</summary>
public sealed record ConfigWarning(string Type, string Message);
