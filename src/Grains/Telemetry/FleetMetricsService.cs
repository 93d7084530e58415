using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OnDemand.Grains.Fleet;

namespace OnDemand.Grains.Telemetry;

/// <summary>Reads the fleet now and then for the "instances by plan and status" gauge (Metrics:FleetRefresh, default 30 s).</summary>
public sealed class FleetMetricsService(IGrainFactory grains, BrokerCatalog catalog, Microsoft.Extensions.Configuration.IConfiguration configuration, ILogger<FleetMetricsService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var period = Microsoft.Extensions.Configuration.ConfigurationBinder.GetValue(configuration, "Metrics:FleetRefresh", TimeSpan.FromSeconds(30));
        using var timer = new PeriodicTimer(period);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                var fleet = await FleetReader.ReadAsync(grains, parallelism: 8);
                BrokerMetrics.SetInstances(fleet
                    .Where(f => f.View is not null)
                    .GroupBy(f => (Plan: catalog.FindPlan(f.View!.ServiceId, f.View.PlanId)?.Plan.Name ?? f.Claim.PlanName, Status: f.View!.Status.ToString().ToLowerInvariant()))
                    .Select(g => (g.Key.Plan, g.Key.Status, g.Count()))
                    .ToList());
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogDebug("Fleet metrics not refreshed: {Error}", e.Message);
            }
        }
    }
}
