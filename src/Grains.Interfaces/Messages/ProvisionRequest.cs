namespace OnDemand.Grains.Interfaces.Messages;

/// <param name="ParametersJson">the user's parameters as a JSON object, already checked against the plan's schema.</param>
/// <param name="MaintenanceInfoVersion">what the platform asked for; null when it sent none.</param>
/// <param name="RequestedBy">user guid from X-Broker-API-Originating-Identity, when sent.</param>
/// <param name="ClusterSpaceGuid">a database's: the space its cluster is looked up in, when the gateway resolved one
/// (cluster-org/cluster-space, or a cluster instance id of another space) and checked the requester's role there.</param>
[GenerateSerializer, Immutable, Alias("OnDemand.ProvisionRequest")]
public sealed record ProvisionRequest(
    string ServiceId,
    string PlanId,
    string ParametersJson,
    string? MaintenanceInfoVersion,
    InstanceContext Context,
    string? RequestedBy,
    string? ClusterSpaceGuid = null);
