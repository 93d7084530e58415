using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Fleet;

/// <summary>Reads the fleet: the registry's clusters, each asked for its own view (an interleaving read).</summary>
public static class FleetReader
{
    public static async Task<IReadOnlyList<(ClusterClaim Claim, ClusterDashboardView? View)>> ReadAsync(IGrainFactory grains, int parallelism = 32)
    {
        var claims = await grains.GetGrain<IFleetRegistryGrain>(0).GetClusters();
        var entries = new (ClusterClaim, ClusterDashboardView?)[claims.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, claims.Count), new ParallelOptions { MaxDegreeOfParallelism = parallelism }, async (i, _) =>
            entries[i] = (claims[i], await grains.GetGrain<IClusterGrain>(claims[i].InstanceId).GetDashboard()));
        return entries;
    }
}
