namespace OnDemand.ConcourseEmulator;

/// <summary>What the state needs to know about a job of a validated config.</summary>
internal sealed record JobSpec(string Name, bool DisableManualTrigger);
