namespace OnDemand.BrokerGateway.Osb;

/// <summary>
/// Finds which grain holds an instance id. An id names one instance of one kind (a database reserves its id in the
/// cluster grain of the same id), so asking the likely kind first and the other second always finds the owner; the
/// views asked are served from grain memory and never wait behind a running operation.
/// </summary>
public static class InstanceRouter
{
    /// <summary>The grain that holds (or would hold) an instance of this kind.</summary>
    public static IServiceInstanceGrain Grain(IGrainFactory grains, string instanceId, bool isDatabase) =>
        isDatabase ? grains.GetGrain<IDatabaseGrain>(instanceId) : grains.GetGrain<IClusterGrain>(instanceId);

    public static async Task<InstanceView> FetchAsync(IGrainFactory grains, string instanceId)
    {
        var cluster = await grains.GetGrain<IClusterGrain>(instanceId).Fetch();
        return cluster.Outcome != FetchOutcome.NotFound ? cluster : await grains.GetGrain<IDatabaseGrain>(instanceId).Fetch();
    }

    /// <summary>The owner's last operation (with its kind, service and plans); Found is false when no instance has the id.</summary>
    public static async Task<LastOperationView> FindAsync(IGrainFactory grains, string instanceId, bool databaseFirst)
    {
        var first = await Grain(grains, instanceId, databaseFirst).GetLastOperation(null);
        return first.Found ? first : await Grain(grains, instanceId, !databaseFirst).GetLastOperation(null);
    }

    public static bool DatabaseFirst(BrokerCatalog catalog, string? serviceId, string? planId) =>
        catalog.FindPlan(serviceId, planId)?.Plan.Kind == PlanKind.Database;

    /// <summary>400 when the request's ids are not the instance's (nothing changed); null when they are.</summary>
    public static OsbError? CheckIds(BrokerCatalog catalog, string instanceId, LastOperationView owner, string? serviceId, string? planId) =>
        owner.Found && !owner.Matches(serviceId, planId)
            ? OsbError.BadRequest(catalog.WrongIds(instanceId, serviceId, planId, owner.ServiceId ?? "", owner.PlanIds?.FirstOrDefault() ?? "", owner.IsDatabase))
            : null;
}
