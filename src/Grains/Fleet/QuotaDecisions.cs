using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Fleet;

/// <summary>Pure quota checks: what a new cluster or database would exceed, worded for the Cloud Foundry user.</summary>
public static class QuotaDecisions
{
    /// <returns>null when the cluster fits every quota; otherwise why not (the quota, its value, the current use).</returns>
    public static string? ClusterRefusal(IReadOnlyCollection<ClusterClaim> existing, ClusterClaim claim, QuotaOptions quotas)
    {
        if (existing.Any(c => c.InstanceId == claim.InstanceId)) return null;
        if (quotas.ClustersPerPlanLimit(claim.PlanId, claim.PlanName) is { } planLimit)
        {
            var used = existing.Count(c => c.PlanId == claim.PlanId);
            if (used >= planLimit)
                return $"quota exceeded: clusters per plan for plan {claim.PlanName} is {planLimit} for the whole broker and {used} exist; " +
                       "delete one or ask the platform operators to raise the quota";
        }
        if (quotas.ClustersPerOrg is { } orgLimit)
        {
            var used = existing.Count(c => c.OrganizationGuid == claim.OrganizationGuid);
            if (used >= orgLimit)
                return $"quota exceeded: clusters per org is {orgLimit} and your org already has {used}; " +
                       "delete one or ask the platform operators to raise the quota";
        }
        return null;
    }

    public static string? DatabaseRefusal(int databasesInCluster, bool alreadyRegistered, string clusterName, QuotaOptions quotas) =>
        !alreadyRegistered && quotas.DatabasesPerCluster is { } limit && databasesInCluster >= limit
            ? $"quota exceeded: databases per cluster is {limit} and cluster {clusterName} already has {databasesInCluster}; " +
              "delete one, use another cluster or ask the platform operators to raise the quota"
            : null;

    public static QuotaReport Report(IReadOnlyCollection<ClusterClaim> clusters, QuotaOptions quotas, BrokerCatalog catalog)
    {
        var uses = new List<QuotaUse>();
        foreach (var service in catalog.Services)
            foreach (var plan in service.Plans.Where(p => p.Kind == PlanKind.Cluster))
                uses.Add(new QuotaUse("clusters_per_plan", plan.Name, quotas.ClustersPerPlanLimit(plan.Id, plan.Name), clusters.Count(c => c.PlanId == plan.Id)));
        foreach (var org in clusters.GroupBy(c => c.OrganizationGuid).OrderBy(g => g.Key))
            uses.Add(new QuotaUse("clusters_per_org", org.Key, quotas.ClustersPerOrg, org.Count()));
        return new QuotaReport(uses, quotas.DatabasesPerCluster);
    }
}
