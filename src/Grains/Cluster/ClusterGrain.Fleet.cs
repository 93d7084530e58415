using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OnDemand.Grains.Fleet;
using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Cluster;

/// <summary>
/// The cluster's place in the fleet: it claims a slot in the fleet registry (which enforces the cluster quotas, one
/// call at a time) before a create is recorded, and frees it once the cluster is deleted.
/// </summary>
public sealed partial class ClusterGrain
{
    private IFleetRegistryGrain Fleet => GrainFactory.GetGrain<IFleetRegistryGrain>(0);

    private QuotaOptions Quotas => ServiceProvider.GetRequiredService<IOptions<QuotaOptions>>().Value;

    /// <returns>null when claimed; otherwise the quota refusal for the user.</returns>
    private Task<string?> ClaimFleetSlotAsync(ProvisionRequest request, ServicePlan plan) =>
        Fleet.ClaimCluster(new ClusterClaim(InstanceId, request.ServiceId, plan.Id, plan.Name, request.Context.OrganizationGuid));

    /// <summary>Best effort: a registry that cannot be reached keeps the slot (an operator sees it in the fleet listing).</summary>
    private async Task ReleaseFleetSlotAsync()
    {
        try
        {
            await Fleet.ReleaseCluster(InstanceId);
        }
        catch (Exception e)
        {
            logger.LogWarning("Cluster {InstanceId}: could not free its fleet slot: {Error}", InstanceId, e.Message);
        }
    }

    private string? DatabaseQuotaRefusal(ChildDatabaseRequest request) =>
        QuotaDecisions.DatabaseRefusal(S.Children.Count, S.Children.Exists(c => c.InstanceId == request.DatabaseId), DisplayName, Quotas);
}
