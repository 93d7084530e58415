namespace OnDemand.Grains.Interfaces.Messages;

/// <summary>The answer to GET service_instances/:id.</summary>
/// <param name="DashboardInstanceId">whose dashboard page shows this instance: itself, or a database's cluster.</param>
[GenerateSerializer, Immutable, Alias("OnDemand.InstanceView")]
public sealed record InstanceView(
    FetchOutcome Outcome,
    string? ServiceId = null,
    string? PlanId = null,
    string? ParametersJson = null,
    string? MaintenanceInfoVersion = null,
    string? Description = null,
    string? DashboardInstanceId = null);
