using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OnDemand.Grains.Alerts;
using OnDemand.Grains.Cluster;
using OnDemand.Grains.Concourse;
using OnDemand.Grains.Credentials;
using OnDemand.Grains.Provisioning;
using OnDemand.Grains.Catalog;
using OnDemand.Grains.Hosting;
using OnDemand.Grains.Pipelines;

namespace OnDemand.Grains;

public static class BrokerGrainsServiceCollectionExtensions
{
    /// <summary>What the grains need from their silo: the catalog, Concourse, templates, alerts, CredHub, database provisioners.</summary>
    public static IServiceCollection AddBrokerGrains(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(_ => CatalogLoader.LoadFile(BrokerConfigPath.Resolve(configuration[BrokerConfigPath.Key])));
        services.Configure<ConcourseOptions>(configuration.GetSection(ConcourseOptions.Section));
        services.Configure<SlackOptions>(configuration.GetSection(SlackOptions.Section));
        services.Configure<ClusterLifecycleOptions>(configuration.GetSection(ClusterLifecycleOptions.Section));
        services.Configure<Fleet.QuotaOptions>(configuration.GetSection(Fleet.QuotaOptions.Section));
        services.Configure<Fleet.UpgradeOptions>(configuration.GetSection(Fleet.UpgradeOptions.Section));
        services.AddSingleton<IConcourseClient, ConcourseClient>();
        services.AddSingleton<IPipelineRenderer, PipelineRenderer>();
        services.AddSingleton<PipelineTemplates>();
        services.AddSingleton<IAlertSender, SlackAlertSender>();
        services.Configure<CredHubOptions>(configuration.GetSection(CredHubOptions.Section));
        services.Configure<DatabaseOptions>(configuration.GetSection(DatabaseOptions.Section));
        services.AddSingleton<ICredentialStore, CredHubCredentialStore>();
        services.AddSingleton<IDatabaseProvisioner, PostgresDatabaseProvisioner>();
        services.AddSingleton<IDatabaseProvisioner, MySqlDatabaseProvisioner>();
        services.AddSingleton<IDatabaseProvisioner, OsbDatabaseProvisioner>();
        services.AddSingleton<DatabaseProvisioning>();
        // The host provides Data Protection (the silo keeps its key ring in PostgreSQL).
        services.AddSingleton<ISecretProtector, DataProtectionSecretProtector>();
        services.AddSingleton(TimeProvider.System);
        // Silos and gateways on PostgreSQL replace it with the SQL directory (AddPostgresClusterDirectory).
        services.TryAddSingleton<Fleet.IClusterDirectory, Fleet.NoClusterDirectory>();
        services.AddHostedService<Telemetry.FleetMetricsService>();
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, Fleet.QuotaSettingsObserver>();
        return services;
    }
}
