namespace OnDemand.ConcourseEmulator;

/// <summary>
/// Raised once per build that reaches a final status (succeeded, failed, errored, aborted), so a test harness can
/// emulate what the pipeline would have done (e.g. "deploy" succeeded: the cluster now exists).
/// </summary>
/// <param name="PipelineConfigJson">the pipeline's config when the build started (null if it never started).</param>
public sealed record BuildFinished(
    long BuildId, string Team, string Pipeline, string Job, string BuildName, string Status, string? PipelineConfigJson);
