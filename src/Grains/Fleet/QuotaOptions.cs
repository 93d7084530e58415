namespace OnDemand.Grains.Fleet;

/// <summary>
/// Bound from the "Quotas" section (Quotas__ClustersPerPlan__cluster-small=50, Quotas__ClustersPerOrg=5,
/// Quotas__DatabasesPerCluster=20). A quota not set is unlimited.
/// </summary>
public sealed class QuotaOptions
{
    public const string Section = "Quotas";
    /// <summary>Clusters of a plan for the whole broker, by plan name (or id).</summary>
    public Dictionary<string, int> ClustersPerPlan { get; set; } = new(StringComparer.OrdinalIgnoreCase);
    public int? ClustersPerOrg { get; set; }
    public int? DatabasesPerCluster { get; set; }

    public int? ClustersPerPlanLimit(string planId, string planName) =>
        ClustersPerPlan.TryGetValue(planName, out var byName) ? byName : ClustersPerPlan.TryGetValue(planId, out var byId) ? byId : null;
}
