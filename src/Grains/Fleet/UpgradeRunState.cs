using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Fleet;

/// <summary>Persisted state of the upgrade-all run. Never reorder the [Id]s.</summary>
[GenerateSerializer, Alias("OnDemand.UpgradeRunState")]
public sealed class UpgradeRunState
{
    [Id(0)] public string? RunId { get; set; }
    [Id(1)] public UpgradeRunStatus Status { get; set; }
    [Id(2)] public string? Reason { get; set; }
    [Id(3)] public DateTimeOffset? StartedAt { get; set; }
    [Id(4)] public DateTimeOffset? FinishedAt { get; set; }
    [Id(5)] public int Parallelism { get; set; }
    [Id(6)] public string? RequestedBy { get; set; }
    [Id(7)] public List<UpgradeItem> Items { get; set; } = [];
}

[GenerateSerializer, Alias("OnDemand.UpgradeItem")]
public sealed class UpgradeItem
{
    [Id(0)] public string InstanceId { get; set; } = "";
    [Id(1)] public string ServiceId { get; set; } = "";
    [Id(2)] public string PlanName { get; set; } = "";
    [Id(3)] public string FromVersion { get; set; } = "";
    [Id(4)] public string ToVersion { get; set; } = "";
    [Id(5)] public bool Canary { get; set; }
    [Id(6)] public UpgradeItemPhase Phase { get; set; }
    [Id(7)] public string? OperationId { get; set; }
    [Id(8)] public int Attempts { get; set; }
    [Id(9)] public string? Note { get; set; }
    [Id(10)] public DateTimeOffset NextAttemptAt { get; set; }

    public bool IsFinished => Phase is UpgradeItemPhase.Done or UpgradeItemPhase.Failed or UpgradeItemPhase.Skipped;
}
