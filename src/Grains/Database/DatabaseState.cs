using OnDemand.Grains.Cluster;

namespace OnDemand.Grains.Database;

/// <summary>Persisted state of a database instance. Never reorder the [Id]s.</summary>
[GenerateSerializer, Alias("OnDemand.DatabaseState")]
public sealed class DatabaseState
{
    [Id(0)] public DatabaseStatus Status { get; set; }
    [Id(1)] public InstanceSpec? Spec { get; set; }
    [Id(2)] public InstanceContext? Context { get; set; }
    [Id(3)] public string ClusterId { get; set; } = "";
    [Id(4)] public string ClusterName { get; set; } = "";
    [Id(5)] public DatabaseOperation? Operation { get; set; }
    [Id(6)] public List<BindingRecord> Bindings { get; set; } = [];
    [Id(7)] public OperationKind? FailedOperation { get; set; }
    /// <summary>The cluster has recorded this database as its child. Persisted lazily: registering again is harmless.</summary>
    [Id(8)] public bool Registered { get; set; }
    /// <summary>The space the cluster was found in when it is not the database's own (a shared cluster); null otherwise.</summary>
    [Id(9)] public string? ClusterSpaceGuid { get; set; }
}
