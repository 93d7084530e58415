using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Fleet;

/// <summary>
/// Tells <see cref="IQuotaSettingsGrain"/> which cluster quotas this silo was started with (docs/fleet.md, "Quotas"),
/// once the silo answers grain calls; retried until it got through. Quotas are read at start, so a start is the only
/// moment they can change.
/// </summary>
public sealed class QuotaSettingsObserver(IGrainFactory grains, BrokerCatalog catalog, IOptions<QuotaOptions> quotas, ILogger<QuotaSettingsObserver> logger) : BackgroundService
{
    public static IReadOnlyCollection<string> ConfiguredScopes(BrokerCatalog catalog, QuotaOptions quotas)
    {
        var scopes = catalog.Services
            .SelectMany(s => s.Plans)
            .Where(p => p.Kind == PlanKind.Cluster && quotas.ClustersPerPlanLimit(p.Id, p.Name) is not null)
            .Select(p => QuotaDecisions.PlanScope(p.Id))
            .ToHashSet(StringComparer.Ordinal);
        if (quotas.ClustersPerOrg is not null) scopes.Add(QuotaDecisions.OrgScope);
        return scopes;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var scopes = ConfiguredScopes(catalog, quotas.Value);
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await grains.GetGrain<IQuotaSettingsGrain>(IQuotaSettingsGrain.Key).Observe(scopes);
                return;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                // The silo is still joining, or storage is unreachable: the next start or attempt records it.
                if (attempt % 30 == 1) logger.LogWarning("Quota settings not recorded yet (attempt {Attempt}): {Error}", attempt, e.Message);
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), stoppingToken);
            }
        }
    }
}
