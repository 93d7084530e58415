namespace OnDemand.Grains.Interfaces.Messages;

/// <summary>The answer to last_operation, read from grain state only; also tells who owns the instance id.</summary>
/// <param name="Found">false when the instance never existed (404).</param>
/// <param name="ServiceId">the instance's service.</param>
/// <param name="PlanIds">the plans a request about this instance may name: its plan first, then the other side of a
/// plan change in progress or just finished (the platform may still send either).</param>
/// <param name="IsDatabase">a database instance (else a cluster).</param>
[GenerateSerializer, Immutable, Alias("OnDemand.LastOperationView")]
public sealed record LastOperationView(
    bool Found,
    LastOperationState State,
    string Description,
    string? ServiceId = null,
    IReadOnlyList<string>? PlanIds = null,
    bool IsDatabase = false)
{
    public static readonly LastOperationView Unknown = new(false, LastOperationState.Failed, "");

    /// <summary>Whether a request naming this service and plan is about this instance.</summary>
    public bool Matches(string? serviceId, string? planId) =>
        (string.IsNullOrEmpty(serviceId) || serviceId == ServiceId) && (string.IsNullOrEmpty(planId) || (PlanIds ?? []).Contains(planId));
}
