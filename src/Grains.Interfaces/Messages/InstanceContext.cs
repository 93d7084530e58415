namespace OnDemand.Grains.Interfaces.Messages;

/// <summary>Where an instance lives, as the platform (Cloud Foundry) described it in the request's context.</summary>
[GenerateSerializer, Immutable, Alias("OnDemand.InstanceContext")]
public sealed record InstanceContext(
    string Platform,
    string OrganizationGuid,
    string SpaceGuid,
    string? OrganizationName,
    string? SpaceName,
    string? InstanceName);
