namespace OnDemand.Grains.Interfaces.Catalog;

/// <summary>The whole catalog, loaded once from the broker's YAML file and shared by the gateway and the silos.</summary>
public sealed class BrokerCatalog(IReadOnlyList<ServiceOffering> services)
{
    private readonly Dictionary<string, ServiceOffering> _servicesById = services.ToDictionary(s => s.Id, StringComparer.Ordinal);

    public IReadOnlyList<ServiceOffering> Services { get; } = services;

    public ServiceOffering? FindService(string? serviceId) =>
        serviceId is not null && _servicesById.TryGetValue(serviceId, out var service) ? service : null;

    public (ServiceOffering Service, ServicePlan Plan)? FindPlan(string? serviceId, string? planId)
    {
        var service = FindService(serviceId);
        var plan = planId is null ? null : service?.FindPlan(planId);
        return service is null || plan is null ? null : (service, plan);
    }

    /// <summary>
    /// The answer to a request whose service_id/plan_id are not those of the instance it names: which ids to send,
    /// by name, so a Cloud Foundry user (or operator) sees which instance the id belongs to. Nothing was changed.
    /// </summary>
    public string WrongIds(string instanceId, string? askedServiceId, string? askedPlanId, string ownerServiceId, string ownerPlanId, bool ownerIsDatabase)
    {
        var owner = FindPlan(ownerServiceId, ownerPlanId);
        var kind = ownerIsDatabase ? "database" : "cluster";
        return $"service instance {instanceId} is a {kind} of service {owner?.Service.Name ?? ownerServiceId} (service_id {ownerServiceId}), " +
               $"plan {owner?.Plan.Name ?? ownerPlanId} (plan_id {ownerPlanId}); this request named service_id {askedServiceId} and plan_id {askedPlanId}. " +
               "Nothing was changed: repeat the request with the instance's own ids";
    }
}
