namespace OnDemand.ConcourseEmulator;

/// <summary>A build; its mutable fields are guarded by <see cref="Pipeline"/>'s gate.</summary>
internal sealed class EmulatedBuild(long id, EmulatedPipeline pipeline, EmulatedJob job, string name, string? scriptedOutcome)
{
    public long Id { get; } = id;
    public EmulatedPipeline Pipeline { get; } = pipeline;
    public EmulatedJob Job { get; } = job;
    public string Name { get; } = name;

    /// <summary>The final status a test asked for; succeeded when null.</summary>
    public string? ScriptedOutcome { get; } = scriptedOutcome;

    public string Status { get; set; } = BuildStatus.Pending;
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset FinishDue { get; set; }
    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>The pipeline config the build runs with, captured when it starts.</summary>
    public string? ConfigAtStart { get; set; }

    public EmulatedBuildInfo Snapshot() => new(
        Id, Pipeline.Team, Pipeline.Name, Job.Name, Name, Status,
        StartedAt?.ToUnixTimeSeconds(), EndedAt?.ToUnixTimeSeconds());
}
