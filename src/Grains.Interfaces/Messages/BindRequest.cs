namespace OnDemand.Grains.Interfaces.Messages;

/// <param name="AppGuid">null for Cloud Foundry service keys.</param>
[GenerateSerializer, Immutable, Alias("OnDemand.BindRequest")]
public sealed record BindRequest(string ServiceId, string PlanId, string? AppGuid, string ParametersJson, string? RequestedBy);
