namespace OnDemand.Grains.Interfaces.Fleet;

/// <summary>
/// Every live cluster of the broker with its plan and org (key 0). Cluster grains claim a slot here before they
/// record a create and free it once deleted; because this grain runs one call at a time, two creates racing for the
/// last slot of a quota cannot both win. It is also the fleet's index for operators (listing, upgrade-all, orphans).
/// </summary>
[Alias("OnDemand.IFleetRegistryGrain")]
public interface IFleetRegistryGrain : IGrainWithIntegerKey
{
    /// <returns>null when the slot is claimed (or already was); otherwise the refusal, naming the quota, its value and the use.</returns>
    [Alias("ClaimCluster")]
    Task<string?> ClaimCluster(ClusterClaim claim);

    /// <summary>A plan change: the cluster counts for the claim's plan from now on. With <paramref name="enforce"/>, refused
    /// (null otherwise) when the new plan's quota is full; without, it is recorded whatever the quota (a failed change
    /// going back to the plan the cluster still has).</summary>
    [Alias("MoveCluster")]
    Task<string?> MoveCluster(ClusterClaim claim, bool enforce);

    [Alias("ReleaseCluster")]
    Task ReleaseCluster(string instanceId);

    [AlwaysInterleave, Alias("GetClusters")]
    Task<IReadOnlyList<ClusterClaim>> GetClusters();

    [AlwaysInterleave, Alias("GetQuotas")]
    Task<QuotaReport> GetQuotas();
}

[GenerateSerializer, Immutable, Alias("OnDemand.ClusterClaim")]
public sealed record ClusterClaim(string InstanceId, string ServiceId, string PlanId, string PlanName, string OrganizationGuid);

/// <param name="Limit">null: no limit configured.</param>
[GenerateSerializer, Immutable, Alias("OnDemand.QuotaUse")]
public sealed record QuotaUse(string Quota, string Scope, int? Limit, int Used);

[GenerateSerializer, Immutable, Alias("OnDemand.QuotaReport")]
public sealed record QuotaReport(IReadOnlyList<QuotaUse> Uses, int? DatabasesPerCluster);
