namespace OnDemand.ConcourseEmulator;

/// <summary>A read-only snapshot of a pipeline, for assertions.</summary>
/// <param name="ConfigJson">compact JSON as GET config would return it; null when archived.</param>
/// <param name="Jobs">names of the jobs in the current config.</param>
public sealed record EmulatedPipelineInfo(
    long Id, string Team, string Name, bool Paused, bool Archived, long ConfigVersion, string? ConfigJson, IReadOnlyList<string> Jobs,
    DateTimeOffset LastUpdated);
