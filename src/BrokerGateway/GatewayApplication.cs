using OnDemand.BrokerGateway.CloudFoundry;
using OnDemand.BrokerGateway.Dashboard;
using OnDemand.BrokerGateway.Operator;
using OnDemand.BrokerGateway.Osb;
using OnDemand.Grains.Catalog;
using OnDemand.Grains.Hosting;
using Orleans.Configuration;
using Prometheus;
using Serilog;

namespace OnDemand.BrokerGateway;

/// <summary>
/// The stateless OSB gateway: Kestrel + an Orleans client that finds the silos through the PostgreSQL membership
/// table. Any number of them can run behind a load balancer.
/// </summary>
public static class GatewayApplication
{
    /// <param name="services">replaces services after the gateway's own (tests: a clock).</param>
    public static WebApplication Build(string[] args, Action<IConfigurationBuilder>? configure = null, Action<IServiceCollection>? services = null)
    {
        // appsettings.json sits next to the binaries, wherever the process is started from.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        configure?.Invoke(builder.Configuration);
        // The meters /metrics publishes, from the start (the domain metrics, docs/fleet.md), without database, host or
        // user names in labels (docs/security.md).
        MetricLabels.Configure(orleans: false);
        var configuration = builder.Configuration;
        builder.Services.Configure<GatewaySettings>(configuration.GetSection(GatewaySettings.Section));
        var settings = configuration.GetSection(GatewaySettings.Section).Get<GatewaySettings>() ?? new GatewaySettings();
        if (string.IsNullOrEmpty(settings.Password))
            throw new InvalidOperationException("Broker:Password is not set (env Broker__Password): the broker never runs without credentials");
        var connectionString = configuration.GetConnectionString("Orleans")
            ?? throw new InvalidOperationException("ConnectionStrings:Orleans is not set (env ConnectionStrings__Orleans)");

        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(configuration)
            .Enrich.FromLogContext()
            .Enrich.WithProperty("Component", "gateway")
            .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] gateway {SourceContext}: {Message:lj}{NewLine}{Exception}"), preserveStaticLogger: true);

        // Stop (drain requests, close the Orleans client) in bounded time, even when no silo or PostgreSQL answers.
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = configuration.GetValue("Orleans:ShutdownTimeout", TimeSpan.FromSeconds(15)));
        builder.UseOrleansClient(client =>
        {
            client.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = configuration["Orleans:ClusterId"] ?? "ondemand";
                o.ServiceId = configuration["Orleans:ServiceId"] ?? "ondemand-broker";
            });
            // How soon a gateway learns of silos that joined or left (a restarted silo, a scale-out).
            // A silo that was killed is dropped at once when its connection breaks; this is for silos that joined.
            client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = configuration.GetValue("Orleans:GatewayListRefreshPeriod", TimeSpan.FromSeconds(5)));
            // How long a request waits for a grain before it answers 503 ("may or may not have been applied"): the
            // longest any request waits when a silo dies (one in flight to it gets no answer at all), docs/scaling-out.md.
            client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = configuration.GetValue("Orleans:ResponseTimeout", TimeSpan.FromSeconds(5)));
            // No session state to reset between membership queries (see the silo): no DISCARD ALL round trip.
            client.UseAdoNetClustering(o => { o.Invariant = "Npgsql"; o.ConnectionString = OrleansDatabase.ConnectionString(connectionString); });
            client.AddActivityPropagation();
            // Gateways may start before any silo: keep trying rather than crash; readiness says when it is connected.
            client.UseConnectionRetryFilter(async (exception, cancellationToken) =>
            {
                await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
                return true;
            });
        });

        builder.Services.AddSingleton(_ => CatalogLoader.LoadFile(BrokerConfigPath.Resolve(configuration[BrokerConfigPath.Key])));
        builder.Services.AddSingleton<CatalogDocument>();
        builder.Services.AddSingleton<ParameterSchemas>();
        builder.Services.AddSingleton<DashboardLinks>();
        builder.Services.AddSingleton(new FailedAuthentications(configuration));
        builder.Services.AddClientAddresses(configuration);
        builder.Services.AddCloudFoundrySharing(configuration);
        builder.Services.AddOperatorApi(configuration);
        services?.Invoke(builder.Services);

        var app = builder.Build();
        // Fail at start, not on the first request, when the catalog or a schema is unusable.
        _ = app.Services.GetRequiredService<CatalogDocument>();
        _ = app.Services.GetRequiredService<ParameterSchemas>();
        _ = app.Services.GetRequiredService<DashboardLinks>();

        // The client address first (a trusted proxy's X-Forwarded-For), then /metrics for operators only (docs/security.md).
        app.UseClientAddresses();
        // Without Broker:OperatorPassword nobody reads /metrics.
        app.UseOperatorGate(settings.OperatorPassword.Length > 0 ? new BasicCredentials(settings.OperatorUsername, settings.OperatorPassword) : null, "/metrics");

        app.Use(async (context, next) =>
        {
            try
            {
                await next(context);
            }
            catch (BadHttpRequestException e) when (!context.Response.HasStarted)
            {
                // The request itself is unreadable (framing, size): the client's problem, and nothing was done.
                await OsbError.BadRequest($"the request could not be read: {e.Message}").ExecuteAsync(context);
            }
            catch (Exception e) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
            {
                await BackendUnavailable(context, e);
            }
        });
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/v2"), osb => osb.UseMiddleware<OsbRequestLog>().UseMiddleware<OsbHeadersMiddleware>());
        app.UseWhen(MaintenanceGate.Applies, gate => gate.UseMiddleware<MaintenanceGate>());

        var catalog = app.Services.GetRequiredService<CatalogDocument>().Utf8Json;
        app.MapGet("/v2/catalog", (HttpContext context) =>
        {
            context.Response.ContentType = "application/json";
            context.Response.ContentLength = catalog.Length;
            return context.Response.Body.WriteAsync(catalog).AsTask();
        });
        app.MapInstanceEndpoints();
        app.MapBindingEndpoints();
        app.MapDashboardEndpoints();
        app.MapOperatorEndpoints();
        app.MapGet("/health/live", () => Results.Text("ok"));
        app.MapGet("/health/ready", Ready);
        app.MapMetrics("/metrics");
        return app;
    }

    private static async Task<IResult> Ready(IGrainFactory grains)
    {
        try
        {
            var silo = await grains.GetGrain<IHealthGrain>(0).Ping().WaitAsync(TimeSpan.FromSeconds(5));
            return Results.Text($"ready (silo {silo})");
        }
        catch (Exception e)
        {
            return Results.Text($"not ready: {e.Message}", statusCode: StatusCodes.Status503ServiceUnavailable);
        }
    }

    /// <summary>
    /// Unexpected failures (a silo unreachable, a timeout) answer 503 with an OSB body, never an HTML 500. The answer
    /// says what is known: a read changed nothing; a change that got no answer in time may have been applied, and
    /// repeating it is safe (every OSB request here is idempotent).
    /// </summary>
    private static Task BackendUnavailable(HttpContext context, Exception error)
    {
        var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("OnDemand.BrokerGateway");
        if (error is TimeoutException)
            logger.LogWarning("Request {Method} {Path} timed out waiting for a silo: {Error}", context.Request.Method, context.Request.Path, error.Message);
        else
            logger.LogError(error, "Request {Method} {Path} failed", context.Request.Method, context.Request.Path);
        var description = HttpMethods.IsGet(context.Request.Method)
            ? "the service broker could not answer right now (nothing was changed); try again in a minute"
            : error is TimeoutException
                ? "the service broker did not get an answer in time: the request may or may not have been applied. Repeating it is safe; " +
                  "check the service instance (cf service) before and after"
                : "the service broker could not complete the request right now: it may or may not have been applied. Repeating it is safe; try again in a minute";
        context.Response.Headers.RetryAfter = "30";
        return new OsbError(StatusCodes.Status503ServiceUnavailable, "ServiceUnavailable", description).ExecuteAsync(context);
    }
}
