namespace OnDemand.Grains.Interfaces.Messages;

[GenerateSerializer, Immutable, Alias("OnDemand.DeprovisionRequest")]
public sealed record DeprovisionRequest(string ServiceId, string PlanId, string? RequestedBy);
