using Microsoft.Extensions.Options;
using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Fleet;

[GenerateSerializer, Alias("OnDemand.FleetRegistryState")]
public sealed class FleetRegistryState
{
    [Id(0)] public Dictionary<string, ClusterClaim> Clusters { get; set; } = [];
}

/// <summary>The live clusters and the cluster quotas; see <see cref="IFleetRegistryGrain"/>.</summary>
public sealed class FleetRegistryGrain(
    [PersistentState("fleet", "store")] IPersistentState<FleetRegistryState> state,
    IOptions<QuotaOptions> quotas,
    BrokerCatalog catalog) : Grain, IFleetRegistryGrain
{
    public async Task<string?> ClaimCluster(ClusterClaim claim)
    {
        if (state.State.Clusters.ContainsKey(claim.InstanceId)) return null;
        if (QuotaDecisions.ClusterRefusal(state.State.Clusters.Values, claim, quotas.Value) is { } refusal)
        {
            Telemetry.BrokerMetrics.Refused("quota");
            return refusal;
        }
        state.State.Clusters[claim.InstanceId] = claim;
        await state.WriteStateAsync();
        return null;
    }

    public async Task<string?> MoveCluster(ClusterClaim claim, bool enforce)
    {
        if (state.State.Clusters.TryGetValue(claim.InstanceId, out var current) && current.PlanId == claim.PlanId) return null;
        var others = state.State.Clusters.Values.Where(c => c.InstanceId != claim.InstanceId).ToList();
        if (enforce && QuotaDecisions.ClusterRefusal(others, claim with { OrganizationGuid = "" }, new QuotaOptions { ClustersPerPlan = quotas.Value.ClustersPerPlan }) is { } refusal)
        {
            Telemetry.BrokerMetrics.Refused("quota");
            return refusal;
        }
        state.State.Clusters[claim.InstanceId] = current is null ? claim : current with { PlanId = claim.PlanId, PlanName = claim.PlanName };
        await state.WriteStateAsync();
        return null;
    }

    public async Task ReleaseCluster(string instanceId)
    {
        if (state.State.Clusters.Remove(instanceId)) await state.WriteStateAsync();
    }

    public Task<IReadOnlyList<ClusterClaim>> GetClusters() =>
        Task.FromResult<IReadOnlyList<ClusterClaim>>(state.State.Clusters.Values.OrderBy(c => c.InstanceId, StringComparer.Ordinal).ToList());

    public Task<QuotaReport> GetQuotas() => Task.FromResult(QuotaDecisions.Report(state.State.Clusters.Values, quotas.Value, catalog));
}
