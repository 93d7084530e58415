namespace OnDemand.Grains.Interfaces.Messages;

/// <summary>What the cluster's dashboard page shows.</summary>
[GenerateSerializer, Immutable, Alias("OnDemand.ClusterDashboardView")]
public sealed record ClusterDashboardView(
    string InstanceId,
    ClusterStatus Status,
    string ServiceId,
    string PlanId,
    string ParametersJson,
    string MaintenanceInfoVersion,
    InstanceContext Context,
    string PipelineName,
    string PipelineUrl,
    IReadOnlyList<OperationRecord> Operations,
    IReadOnlyList<ChildDatabaseView> Databases);

/// <summary>A database instance inside the cluster; <paramref name="Context"/> is its own org and space (null for
/// databases registered before it was recorded).</summary>
[GenerateSerializer, Immutable, Alias("OnDemand.ChildDatabaseView")]
public sealed record ChildDatabaseView(string InstanceId, string? Name, string PlanId, string State, int Bindings, InstanceContext? Context = null);
