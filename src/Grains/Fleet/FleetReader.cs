using System.Collections.Concurrent;
using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Fleet;

/// <summary>
/// Reads the fleet: every cluster stored (<see cref="IClusterDirectory"/>), each asked for its own view (an
/// interleaving read). Clusters without live state (never created, deleted) are left out (docs/fleet.md).
/// </summary>
public static class FleetReader
{
    public static async Task<IReadOnlyList<(ClusterClaim Claim, ClusterDashboardView? View)>> ReadAsync(
        IGrainFactory grains, IClusterDirectory directory, BrokerCatalog catalog, int parallelism = 32, CancellationToken cancellationToken = default)
    {
        var entries = new ConcurrentBag<(ClusterClaim, ClusterDashboardView?)>();
        await Parallel.ForEachAsync(directory.ListClusterIdsAsync(cancellationToken), new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken },
            async (id, _) =>
            {
                if (!InstanceIds.IsValid(id)) return;
                if (await grains.GetGrain<IClusterGrain>(id).GetDashboard() is not { } view || !IsListed(view.Status)) return;
                var planName = catalog.FindPlan(view.ServiceId, view.PlanId)?.Plan.Name ?? view.PlanId;
                entries.Add((new ClusterClaim(id, view.ServiceId, view.PlanId, planName, view.Context.OrganizationGuid), view));
            });
        return entries.OrderBy(e => e.Item1.InstanceId, StringComparer.Ordinal).ToList();
    }

    /// <summary>A cluster is in the fleet from its create's acceptance until its delete succeeded.</summary>
    public static bool IsListed(ClusterStatus status) => status is not (ClusterStatus.None or ClusterStatus.Deleted);

    /// <summary>The operator's quota report (/operator/quotas): configured plan quotas ask their grain, the rest is counted from the fleet.</summary>
    public static async Task<QuotaReport> ReadQuotasAsync(IGrainFactory grains, IClusterDirectory directory, BrokerCatalog catalog, QuotaOptions quotas)
    {
        var fleet = await ReadAsync(grains, directory, catalog);
        var claimed = new Dictionary<string, int>();
        foreach (var plan in catalog.Services.SelectMany(s => s.Plans).Where(p => p.Kind == PlanKind.Cluster && quotas.ClustersPerPlanLimit(p.Id, p.Name) is not null))
            claimed[plan.Id] = await grains.GetGrain<IPlanQuotaGrain>(plan.Id).GetUse();
        return QuotaDecisions.Report(fleet.Select(f => f.Claim).ToList(), claimed, quotas, catalog);
    }
}
