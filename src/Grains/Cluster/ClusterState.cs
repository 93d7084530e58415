namespace OnDemand.Grains.Cluster;

/// <summary>Persisted state of a cluster instance. Never reorder the [Id]s: they are the storage format.</summary>
[GenerateSerializer, Alias("OnDemand.ClusterState")]
public sealed class ClusterState
{
    [Id(0)] public ClusterStatus Status { get; set; }
    [Id(1)] public InstanceSpec? Spec { get; set; }
    [Id(2)] public InstanceContext? Context { get; set; }
    [Id(3)] public ClusterOperation? Operation { get; set; }
    [Id(4)] public PipelineState Pipeline { get; set; } = new();
    [Id(5)] public List<ChildDatabase> Children { get; set; } = [];
    /// <summary>Finished operations, newest last, bounded.</summary>
    [Id(6)] public List<OperationRecord> History { get; set; } = [];
    /// <summary>The kind of the operation that left the cluster Failed.</summary>
    [Id(7)] public OperationKind? FailedOperation { get; set; }
    [Id(8)] public List<PendingAlert> PendingAlerts { get; set; } = [];
    [Id(9)] public DateTimeOffset CreatedAt { get; set; }
}
