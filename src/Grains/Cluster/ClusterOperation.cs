using OnDemand.Grains.Operations;

namespace OnDemand.Grains.Cluster;

/// <summary>The cluster's current (or last) operation, with everything needed to resume it after a crash.</summary>
[GenerateSerializer, Alias("OnDemand.ClusterOperation")]
public sealed class ClusterOperation : IRecordedOperation
{
    [Id(0)] public string Id { get; set; } = "";
    [Id(1)] public OperationKind Kind { get; set; }
    [Id(2)] public OperationStep Step { get; set; }
    [Id(3)] public LastOperationState State { get; set; }
    [Id(4)] public string Description { get; set; } = "";
    [Id(5)] public DateTimeOffset StartedAt { get; set; }
    [Id(6)] public DateTimeOffset Deadline { get; set; }
    [Id(7)] public DateTimeOffset? CompletedAt { get; set; }
    /// <summary>For updates: what the cluster becomes when the operation succeeds.</summary>
    [Id(8)] public InstanceSpec? Target { get; set; }
    /// <summary>Newest build of the job before we triggered: any newer build is ours (a lost reply must not trigger twice).</summary>
    [Id(9)] public long? BaselineBuildId { get; set; }
    [Id(10)] public long? BuildId { get; set; }
    [Id(11)] public string? BuildName { get; set; }
    [Id(12)] public string? BuildUrl { get; set; }
    /// <summary>A build to abort first (a delete that supersedes a running create).</summary>
    [Id(13)] public long? AbortBuildId { get; set; }
    /// <summary>Consecutive transient failures, for back-off.</summary>
    [Id(14)] public int Attempts { get; set; }
    [Id(15)] public DateTimeOffset NextAttemptAt { get; set; }
    /// <summary>We sent a config PUT whose answer we may not have seen: a newer version is presumed ours.</summary>
    [Id(16)] public bool ConfigPutSent { get; set; }
    [Id(17)] public string? RequestedBy { get; set; }
    /// <summary>The plan before the operation (a plan change's origin): the platform may still name it.</summary>
    [Id(18)] public string? FromPlanId { get; set; }
    /// <summary>The W3C trace context of the request that started it: its steps (and their Concourse calls) join that trace.</summary>
    [Id(19)] public string? TraceParent { get; set; }

    public bool IsRunning => State == LastOperationState.InProgress;

    public OperationRecord ToRecord() => new(Id, Kind, State, StartedAt, CompletedAt, Description, BuildUrl);
}
