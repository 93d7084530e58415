namespace OnDemand.BrokerGateway.Osb;

/// <summary>
/// Finds which grain holds an instance. The plan says it when the request carries one; otherwise (fetch, and
/// last_operation from clients that omit plan_id) the cluster is asked first, then the database.
/// </summary>
public static class InstanceRouter
{
    public static async Task<InstanceView> FetchAsync(IGrainFactory grains, string instanceId)
    {
        var cluster = await grains.GetGrain<IClusterGrain>(instanceId).Fetch();
        return cluster.Outcome != FetchOutcome.NotFound ? cluster : await grains.GetGrain<IDatabaseGrain>(instanceId).Fetch();
    }

    public static async Task<LastOperationView> LastOperationAsync(IGrainFactory grains, BrokerCatalog catalog, string instanceId, string? serviceId, string? planId, string? operation)
    {
        var cluster = grains.GetGrain<IClusterGrain>(instanceId);
        var database = grains.GetGrain<IDatabaseGrain>(instanceId);
        if (catalog.FindPlan(serviceId, planId)?.Plan.Kind == PlanKind.Database)
        {
            var view = await database.GetLastOperation(operation);
            return view.Found ? view : await cluster.GetLastOperation(operation);
        }
        var clusterView = await cluster.GetLastOperation(operation);
        return clusterView.Found ? clusterView : await database.GetLastOperation(operation);
    }
}
