namespace OnDemand.Grains.Interfaces.Fleet;

/// <summary>
/// The broker's upgrade-all run (key 0; one run at a time). It records every step in its persisted state and is
/// driven by a timer while active and a reminder that survives deactivation and silo loss.
/// </summary>
[Alias("OnDemand.IUpgradeRunGrain")]
public interface IUpgradeRunGrain : IGrainWithIntegerKey
{
    /// <returns>the run's report; Started false with a reason when a run is still going or the request is invalid.</returns>
    [Alias("Start")]
    Task<UpgradeCommandResult> Start(UpgradeRequest request);

    [Alias("Pause")]
    Task<UpgradeCommandResult> Pause(string? by);

    [Alias("Resume")]
    Task<UpgradeCommandResult> Resume(string? by);

    [Alias("Cancel")]
    Task<UpgradeCommandResult> Cancel(string? by);

    [AlwaysInterleave, Alias("GetReport")]
    Task<UpgradeReport> GetReport();
}

/// <param name="Canaries">how many clusters go first (ignored when CanaryOrg is set).</param>
/// <param name="CanaryOrg">the clusters of this org (guid or name) go first.</param>
/// <param name="Parallelism">at most this many cluster upgrades run at once.</param>
[GenerateSerializer, Immutable, Alias("OnDemand.UpgradeRequest")]
public sealed record UpgradeRequest(int Canaries, string? CanaryOrg, int Parallelism, string? RequestedBy);

[GenerateSerializer, Alias("OnDemand.UpgradeRunStatus")]
public enum UpgradeRunStatus { None = 0, Running = 1, Paused = 2, Cancelled = 3, Stopped = 4, Completed = 5 }

[GenerateSerializer, Alias("OnDemand.UpgradeItemPhase")]
public enum UpgradeItemPhase { Pending = 0, Running = 1, Done = 2, Failed = 3, Skipped = 4 }

[GenerateSerializer, Immutable, Alias("OnDemand.UpgradeItemView")]
public sealed record UpgradeItemView(string InstanceId, string PlanName, string FromVersion, string ToVersion, bool Canary, UpgradeItemPhase Phase, int Attempts, string? Note);

/// <param name="Left">not started yet (including busy instances waiting for a retry).</param>
[GenerateSerializer, Immutable, Alias("OnDemand.UpgradeReport")]
public sealed record UpgradeReport(
    string? RunId,
    UpgradeRunStatus Status,
    string? Reason,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    int Parallelism,
    int Total,
    int Done,
    int Running,
    int Failed,
    int Left,
    IReadOnlyList<UpgradeItemView> Items);

[GenerateSerializer, Immutable, Alias("OnDemand.UpgradeCommandResult")]
public sealed record UpgradeCommandResult(bool Accepted, string? Refusal, UpgradeReport Report);
