using Microsoft.Extensions.DependencyInjection.Extensions;

namespace OnDemand.BrokerGateway.CloudFoundry;

public static class CloudFoundryServices
{
    /// <summary>Key of the clock of grant and token expiry (tests move it; the rest of the gateway keeps the system clock).</summary>
    public const string ClockKey = "CloudFoundry";

    /// <summary>
    /// Sharing clusters across spaces: the CloudFoundry settings, checked now (a bad one stops the gateway with a line
    /// naming it), the API client, the grant cache and the gateway step. Without CloudFoundry__ApiUrl the step still
    /// runs and answers requests naming another org or space with a 400 saying the feature is not configured.
    /// </summary>
    public static IServiceCollection AddCloudFoundrySharing(this IServiceCollection services, IConfiguration configuration)
    {
        var section = configuration.GetSection(CloudFoundrySettings.Section);
        (section.Get<CloudFoundrySettings>() ?? new CloudFoundrySettings()).Validate();
        services.Configure<CloudFoundrySettings>(section);
        services.TryAddKeyedSingleton(ClockKey, TimeProvider.System);
        services.AddSingleton<CloudFoundryApi>();
        services.AddSingleton<RoleGrants>();
        services.AddSingleton<ClusterSharing>();
        return services;
    }
}
