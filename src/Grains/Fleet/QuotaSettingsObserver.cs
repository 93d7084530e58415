using Microsoft.Extensions.Options;
using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Fleet;

/// <summary>
/// Tells <see cref="IQuotaSettingsGrain"/> which cluster quotas this silo was started with (docs/fleet.md, "Quotas"),
/// once the silo is active (earlier, placement finds no silo for the grain yet); retried in the background until it
/// got through, so a start never waits for it. Quotas are read at start, so a start is the only moment they change.
/// </summary>
public sealed class QuotaSettingsObserver(IGrainFactory grains, BrokerCatalog catalog, IOptions<QuotaOptions> quotas, ILogger<QuotaSettingsObserver> logger)
    : ILifecycleParticipant<ISiloLifecycle>, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();

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

    public void Participate(ISiloLifecycle lifecycle) => lifecycle.Subscribe(nameof(QuotaSettingsObserver), ServiceLifecycleStage.Active,
        started =>
        {
            _ = Task.Run(() => ObserveAsync(_stopping.Token), CancellationToken.None);
            return Task.CompletedTask;
        },
        stopped =>
        {
            _stopping.Cancel();
            return Task.CompletedTask;
        });

    private async Task ObserveAsync(CancellationToken stopping)
    {
        var scopes = ConfiguredScopes(catalog, quotas.Value);
        for (var attempt = 1; !stopping.IsCancellationRequested; attempt++)
        {
            try
            {
                await grains.GetGrain<IQuotaSettingsGrain>(IQuotaSettingsGrain.Key).Observe(scopes);
                return;
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                // Storage unreachable, or the silo is stopping already: the next attempt (or start) records it.
                if (attempt % 30 == 1) logger.LogWarning("Quota settings not recorded yet (attempt {Attempt}): {Error}", attempt, e.Message);
                try { await Task.Delay(TimeSpan.FromSeconds(Math.Min(attempt, 5)), stopping); } catch (OperationCanceledException) { return; }
            }
        }
    }

    public void Dispose() => _stopping.Dispose();
}
