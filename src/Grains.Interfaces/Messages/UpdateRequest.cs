namespace OnDemand.Grains.Interfaces.Messages;

/// <param name="PlanId">null keeps the current plan.</param>
/// <param name="ParametersJson">null keeps the parameters; otherwise merged into them (a null value removes a key).</param>
/// <param name="Context">the platform's current context, e.g. after an instance rename.</param>
/// <param name="AcceptsIncomplete">false: only a change that completes synchronously (a rename, a no-op) is done.</param>
[GenerateSerializer, Immutable, Alias("OnDemand.UpdateRequest")]
public sealed record UpdateRequest(
    string ServiceId,
    string? PlanId,
    string? ParametersJson,
    string? MaintenanceInfoVersion,
    InstanceContext? Context,
    string? RequestedBy,
    bool AcceptsIncomplete = true);
