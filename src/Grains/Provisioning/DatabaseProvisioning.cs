using Microsoft.Extensions.Options;

namespace OnDemand.Grains.Provisioning;

/// <summary>Finds the provisioner of a service and the admin endpoint of one of its clusters.</summary>
public sealed class DatabaseProvisioning(IEnumerable<IDatabaseProvisioner> provisioners, IOptions<DatabaseOptions> options)
{
    private readonly Dictionary<string, IDatabaseProvisioner> _byEngine = provisioners.ToDictionary(p => p.Engine, StringComparer.OrdinalIgnoreCase);
    private readonly DatabaseOptions _options = options.Value;

    public IDatabaseProvisioner? For(ServiceOffering service) =>
        service.Databases is { } settings && _byEngine.TryGetValue(settings.Provisioner, out var provisioner) ? provisioner : null;

    public ClusterAdminEndpoint EndpointFor(ServiceOffering service, string clusterInstanceId, string deploymentName, string username, string password)
    {
        var settings = service.Databases ?? throw new InvalidOperationException($"service {service.Name} has no databases section");
        var replaced = _options.Endpoints.GetValueOrDefault(settings.Provisioner);
        return new ClusterAdminEndpoint(
            replaced?.Host ?? settings.HostFor(clusterInstanceId, deploymentName),
            replaced?.Port ?? settings.AdminPort,
            username, password, settings.AdminDatabase, string.IsNullOrEmpty(_options.CaFile) ? null : _options.CaFile);
    }
}
