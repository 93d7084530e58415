namespace OnDemand.Grains.Interfaces.Messages;

/// <summary>A database asking to live in a cluster.</summary>
/// <param name="SpaceGuid">the space the cluster was looked up in: the requester's, or the cluster's own space when the
/// gateway checked the requester's role there. A cluster only accepts databases asking in its own space.</param>
/// <param name="RequestedName">the cluster name (or id) the user gave; the cluster checks it still bears it.</param>
/// <param name="DatabaseContext">the database's own org and space (shown on the cluster's dashboard).</param>
[GenerateSerializer, Immutable, Alias("OnDemand.ChildDatabaseRequest")]
public sealed record ChildDatabaseRequest(string DatabaseId, string? Name, string ServiceId, string PlanId, string SpaceGuid, string? RequestedName = null,
    InstanceContext? DatabaseContext = null);
