namespace OnDemand.Grains.Interfaces.Messages;

/// <summary>A database asking to live in a cluster.</summary>
/// <param name="SpaceGuid">the requester's space: a cluster only accepts databases of its own space.</param>
/// <param name="RequestedName">the cluster name (or id) the user gave; the cluster checks it still bears it.</param>
[GenerateSerializer, Immutable, Alias("OnDemand.ChildDatabaseRequest")]
public sealed record ChildDatabaseRequest(string DatabaseId, string? Name, string ServiceId, string PlanId, string SpaceGuid, string? RequestedName = null);
