using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Fleet;

/// <summary>Pure quota checks: what a new cluster or database would exceed, worded for the Cloud Foundry user.</summary>
public static class QuotaDecisions
{
    public static string PlanRefusal(string planName, int limit, int used) =>
        $"quota exceeded: clusters per plan for plan {planName} is {limit} for the whole broker and {used} exist; " +
        "delete one or ask the platform operators to raise the quota";

    public static string OrgRefusal(int limit, int used) =>
        $"quota exceeded: clusters per org is {limit} and your org already has {used}; " +
        "delete one or ask the platform operators to raise the quota";

    /// <summary>The org quota grain's key: the org guid ("-" for a context without one: a grain key is never empty).</summary>
    public static string OrgKey(string? organizationGuid) => string.IsNullOrEmpty(organizationGuid) ? "-" : organizationGuid;

    /// <summary>The scope names of <see cref="IQuotaSettingsGrain"/>: one per plan quota, one for every org quota.</summary>
    public static string PlanScope(string planId) => "plan:" + planId;

    public const string OrgScope = "org";

    /// <summary>Which quota grains a cluster of <paramref name="plan"/> claims a slot in: none unless configured.</summary>
    public static (bool Plan, bool Org) Applies(ServicePlan plan, QuotaOptions quotas) =>
        (quotas.ClustersPerPlanLimit(plan.Id, plan.Name) is not null, quotas.ClustersPerOrg is not null);

    public static string? DatabaseRefusal(int databasesInCluster, bool alreadyRegistered, string clusterName, QuotaOptions quotas) =>
        !alreadyRegistered && quotas.DatabasesPerCluster is { } limit && databasesInCluster >= limit
            ? $"quota exceeded: databases per cluster is {limit} and cluster {clusterName} already has {databasesInCluster}; " +
              "delete one, use another cluster or ask the platform operators to raise the quota"
            : null;

    /// <summary>
    /// The use of each quota: a configured plan quota reports its grain's claims (<paramref name="claimedByPlanId"/>);
    /// a plan without a quota and each org (only when the org quota is set) report the live clusters of the fleet.
    /// </summary>
    public static QuotaReport Report(IReadOnlyCollection<ClusterClaim> live, IReadOnlyDictionary<string, int> claimedByPlanId, QuotaOptions quotas, BrokerCatalog catalog)
    {
        var uses = new List<QuotaUse>();
        foreach (var service in catalog.Services)
            foreach (var plan in service.Plans.Where(p => p.Kind == PlanKind.Cluster))
            {
                var limit = quotas.ClustersPerPlanLimit(plan.Id, plan.Name);
                var used = limit is not null && claimedByPlanId.TryGetValue(plan.Id, out var claimed) ? claimed : live.Count(c => c.PlanId == plan.Id);
                uses.Add(new QuotaUse("clusters_per_plan", plan.Name, limit, used));
            }
        if (quotas.ClustersPerOrg is { } orgLimit)
            foreach (var org in live.GroupBy(c => c.OrganizationGuid).OrderBy(g => g.Key, StringComparer.Ordinal))
                uses.Add(new QuotaUse("clusters_per_org", org.Key, orgLimit, org.Count()));
        return new QuotaReport(uses, quotas.DatabasesPerCluster);
    }
}
