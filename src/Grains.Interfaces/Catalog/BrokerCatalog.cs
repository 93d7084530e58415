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
}
