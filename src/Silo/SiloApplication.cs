using Microsoft.Extensions.Options;
using OnDemand.Grains;
using OnDemand.Grains.Fleet;
using OnDemand.Grains.Hosting;
using Microsoft.AspNetCore.DataProtection;
using OnDemand.Silo.Security;
using OnDemand.Silo.Storage;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Storage;
using Prometheus;
using Serilog;

namespace OnDemand.Silo;

/// <summary>
/// Hosting only: an Orleans silo whose membership, grain state and reminders live in PostgreSQL, with the Orleans
/// Dashboard (operator Basic auth) and Prometheus metrics on its own small HTTP endpoint.
/// </summary>
public static class SiloApplication
{
    public const string StorageName = "store";

    public static WebApplication Build(string[] args, Action<IConfigurationBuilder>? configure = null)
    {
        // appsettings.json sits next to the binaries, wherever the process is started from.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder.Configuration);
        // The meters /metrics publishes, from the start (the domain metrics, docs/fleet.md), without database, host or
        // user names in labels (docs/security.md).
        MetricLabels.Configure(orleans: true);
        var configuration = builder.Configuration;
        var settings = configuration.GetSection(OrleansSettings.Section).Get<OrleansSettings>() ?? new OrleansSettings();
        var connectionString = configuration.GetConnectionString("Orleans")
            ?? throw new InvalidOperationException("ConnectionStrings:Orleans is not set (env ConnectionStrings__Orleans)");
        var keyRing = KeyRingCertificates.Load(configuration);

        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(configuration)
            .Enrich.FromLogContext()
            .Enrich.WithProperty("Component", "silo")
            .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] silo {SourceContext}: {Message:lj}{NewLine}{Exception}"), preserveStaticLogger: true);

        // The graceful part of a stop: then the host cancels it and Orleans stops deactivating grains. The process
        // itself ends at most Orleans:ShutdownGrace later, even when PostgreSQL is unreachable (ShutdownWatchdog).
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = configuration.GetValue("Orleans:ShutdownTimeout", FastFailover.ShutdownTimeout));
        builder.Services.AddBrokerGrains(configuration);
        builder.Services.AddPostgresClusterDirectory(OrleansDatabase.ConnectionString(connectionString));
        builder.Services.AddSingleton(new FailedAuthentications(configuration));
        var keyRepository = new PostgresXmlRepository(connectionString);
        builder.Services.AddHostedService(services => ActivatorUtilities.CreateInstance<PlaintextKeyRetirement>(services, keyRepository, TimeProvider.System));
        builder.Services.AddDataProtection()
            .SetApplicationName("OnDemand.Orleans")
            .AddKeyManagementOptions(o => o.XmlRepository = keyRepository)
            // Keys are encrypted at rest with a certificate that is not in the database (docs/security.md); the previous
            // certificates still decrypt the keys they encrypted, so a certificate rotation loses no secret.
            .ProtectKeysWithCertificate(keyRing.Current)
            .UnprotectKeysWithAnyCertificate([.. keyRing.All]);
        builder.UseOrleans(silo =>
        {
            silo.Configure<ClusterOptions>(o => { o.ClusterId = settings.ClusterId; o.ServiceId = settings.ServiceId; });
            // Failure detection: defaults tuned to declare a killed silo dead in seconds (docs/scaling-out.md), each one
            // overridable per deployment (Orleans:Membership:ProbeTimeout, NumVotesForDeathDeclaration, ...).
            silo.Configure<ClusterMembershipOptions>(FastFailover.Apply);
            silo.Configure<ClusterMembershipOptions>(configuration.GetSection("Orleans:Membership"));
            // How long a grain-to-grain call waits for its answer (Orleans' default: 30 s).
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = configuration.GetValue("Orleans:ResponseTimeout", FastFailover.SiloResponseTimeout));
            silo.ConfigureEndpoints(settings.AdvertisedAddress(), settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: settings.ListenOnAnyHostAddress);
            // Tuned for Orleans' few repeated statements: no reset on close, automatic preparation (OrleansDatabase).
            var orleans = OrleansDatabase.ConnectionString(connectionString);
            silo.UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = orleans; });
            silo.AddAdoNetGrainStorage(StorageName, o => { o.Invariant = "Npgsql"; o.ConnectionString = orleans; });
            silo.UseAdoNetReminderService(o => { o.Invariant = "Npgsql"; o.ConnectionString = orleans; });
            var reminderPeriod = configuration.GetValue("Lifecycle:ReminderPeriod", TimeSpan.FromMinutes(1));
            if (reminderPeriod < TimeSpan.FromMinutes(1)) silo.Configure<ReminderOptions>(o => o.MinimumReminderPeriod = reminderPeriod);
            silo.AddDashboard();
            silo.AddActivityPropagation(); // traces follow a request from the gateway into the grains
        });
        // Orleans' binary serializer with [Alias]ed types: stored state survives class and assembly renames.
        builder.Services.AddOptions<AdoNetGrainStorageOptions>(StorageName)
            .Configure<IServiceProvider>((o, services) => o.GrainStorageSerializer = new OrleansGrainStorageSerializer(services.GetRequiredService<Orleans.Serialization.Serializer>()));

        var app = builder.Build();
        CheckSettings(app.Services);
        if (settings.ApplySchema)
        {
            SqlSchemaInstaller.ApplyAsync(connectionString, SqlSchemaInstaller.FindSqlDirectory(), app.Logger).GetAwaiter().GetResult();
        }

        // The Orleans Dashboard (all its pages and API routes are under /dashboard) and /metrics: operators only,
        // failed attempts rate-limited per client address (docs/security.md).
        app.UseOperatorGate(OperatorCredentials(configuration), "/dashboard", "/metrics");
        app.MapOrleansDashboard(routePrefix: "/dashboard");
        app.MapMetrics("/metrics");
        app.MapGet("/health/live", () => Results.Text("ok"));
        return app;
    }

    /// <summary>Applies sql/ to the configured database and exits: the "one command before the silo starts".</summary>
    public static async Task<int> MigrateAsync(string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables()
            .AddCommandLine(args)
            .Build();
        var connectionString = configuration.GetConnectionString("Orleans")
            ?? throw new InvalidOperationException("ConnectionStrings:Orleans is not set (env ConnectionStrings__Orleans)");
        await SqlSchemaInstaller.ApplyAsync(connectionString, SqlSchemaInstaller.FindSqlDirectory());
        Console.WriteLine("sql/ applied");
        return 0;
    }

    /// <summary>
    /// Fails at start, not at the first grain activation: the catalog, the Concourse, CredHub and Slack settings and
    /// the database provisioners are built (and so validated) now; a bad URL or a missing credential stops the silo
    /// with a message naming the setting (Program prints it as one line).
    /// </summary>
    private static void CheckSettings(IServiceProvider services)
    {
        _ = services.GetRequiredService<OnDemand.Grains.Interfaces.Catalog.BrokerCatalog>();
        _ = services.GetRequiredService<OnDemand.Grains.Concourse.IConcourseClient>();
        _ = services.GetRequiredService<OnDemand.Grains.Credentials.ICredentialStore>();
        _ = services.GetRequiredService<OnDemand.Grains.Alerts.IAlertSender>();
        _ = services.GetRequiredService<OnDemand.Grains.Provisioning.DatabaseProvisioning>();
        var lifecycle = services.GetRequiredService<IOptions<OnDemand.Grains.Cluster.ClusterLifecycleOptions>>().Value;
        if (lifecycle.PollInterval <= TimeSpan.Zero) throw new ArgumentException("Lifecycle:PollInterval must be positive.");
        if (lifecycle.ReminderPeriod < TimeSpan.FromSeconds(1)) throw new ArgumentException("Lifecycle:ReminderPeriod must be at least one second.");
        if (lifecycle.MaxRetryDelay < lifecycle.PollInterval) throw new ArgumentException("Lifecycle:MaxRetryDelay must be at least Lifecycle:PollInterval.");
    }

    private static BasicCredentials OperatorCredentials(IConfiguration configuration) => new(
        configuration["Operator:Username"] ?? "operator",
        configuration["Operator:Password"] ?? throw new InvalidOperationException("Operator:Password is not set (env Operator__Password): the dashboard is never served without credentials"));
}
