namespace OnDemand.Grains.Interfaces.Fleet;

/// <summary>
/// The clusters that count for one cluster quota (docs/fleet.md, "Quotas"): a plan's (<see cref="IPlanQuotaGrain"/>,
/// keyed by plan id) or an org's (<see cref="IOrgQuotaGrain"/>, keyed by org guid). It holds the ids of its clusters,
/// at most the quota's value, and runs one claim at a time, so two creates racing for the last slot cannot both win.
/// Only called when that quota is configured. Without state it first counts the live clusters of its scope once
/// (the backfill, docs/crash-consistency.md).
/// </summary>
public interface IClusterQuotaGrain : IGrainWithStringKey
{
    /// <returns>null when claimed (or already held); otherwise the refusal naming the quota, its value and the use.
    /// Without <paramref name="enforce"/> it is recorded whatever the quota (a failed plan change moving back).</returns>
    [Alias("Claim")]
    Task<string?> Claim(string instanceId, string planName, bool enforce);

    [Alias("Release")]
    Task Release(string instanceId);

    /// <summary>How many clusters hold a claim.</summary>
    [AlwaysInterleave, Alias("GetUse")]
    Task<int> GetUse();
}

/// <summary>Clusters per plan for the whole broker (Quotas:ClustersPerPlan), keyed by plan id.</summary>
[Alias("OnDemand.IPlanQuotaGrain")]
public interface IPlanQuotaGrain : IClusterQuotaGrain;

/// <summary>Clusters per org (Quotas:ClustersPerOrg), keyed by org guid.</summary>
[Alias("OnDemand.IOrgQuotaGrain")]
public interface IOrgQuotaGrain : IClusterQuotaGrain;

/// <summary>What a cluster counts for: its plan (the target plan while a plan change runs) and its org.</summary>
[GenerateSerializer, Immutable, Alias("OnDemand.ClusterQuotaScope")]
public sealed record ClusterQuotaScope(string PlanId, string OrganizationGuid);

/// <summary>One cluster of the fleet, as listed from storage (FleetReader).</summary>
[GenerateSerializer, Immutable, Alias("OnDemand.ClusterClaim")]
public sealed record ClusterClaim(string InstanceId, string ServiceId, string PlanId, string PlanName, string OrganizationGuid);

/// <param name="Limit">null: no limit configured.</param>
[GenerateSerializer, Immutable, Alias("OnDemand.QuotaUse")]
public sealed record QuotaUse(string Quota, string Scope, int? Limit, int Used);

[GenerateSerializer, Immutable, Alias("OnDemand.QuotaReport")]
public sealed record QuotaReport(IReadOnlyList<QuotaUse> Uses, int? DatabasesPerCluster);
