using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Fleet;

[GenerateSerializer, Alias("OnDemand.QuotaSettingsState")]
public sealed class QuotaSettingsState
{
    /// <summary>Every scope ever configured: configured at the latest silo start or not, and its generation.</summary>
    [Id(0)] public Dictionary<string, QuotaScopeRecord> Scopes { get; set; } = new(StringComparer.Ordinal);
}

[GenerateSerializer, Alias("OnDemand.QuotaScopeRecord")]
public sealed class QuotaScopeRecord
{
    [Id(0)] public bool Configured { get; set; }
    [Id(1)] public int Generation { get; set; }
}

/// <summary>See <see cref="IQuotaSettingsGrain"/>. Written only when a silo starts with other quotas than the last one.</summary>
public sealed class QuotaSettingsGrain(
    [PersistentState("quota-settings", "store")] IPersistentState<QuotaSettingsState> state, ILogger<QuotaSettingsGrain> logger) : Grain, IQuotaSettingsGrain
{
    public async Task Observe(IReadOnlyCollection<string> configuredScopes)
    {
        var changed = false;
        foreach (var (scope, record) in state.State.Scopes)
        {
            if (record.Configured && !configuredScopes.Contains(scope)) (record.Configured, changed) = (false, true);
        }
        foreach (var scope in configuredScopes)
        {
            if (!state.State.Scopes.TryGetValue(scope, out var record))
            {
                state.State.Scopes[scope] = new QuotaScopeRecord { Configured = true };
                changed = true;
            }
            else if (!record.Configured)
            {
                // Creates ran without this quota meanwhile: its grains count the fleet again before their next claim.
                record.Configured = true;
                record.Generation++;
                changed = true;
                logger.LogInformation("Quota {Scope} is configured again (generation {Generation}): its clusters are counted afresh", scope, record.Generation);
            }
        }
        if (changed) await state.WriteStateAsync();
    }

    public Task<int> Generation(string scope) =>
        Task.FromResult(state.State.Scopes.TryGetValue(scope, out var record) ? record.Generation : 0);
}
