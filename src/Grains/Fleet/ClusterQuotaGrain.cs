using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Fleet;

[GenerateSerializer, Alias("OnDemand.ClusterQuotaState")]
public sealed class ClusterQuotaState
{
    /// <summary>The clusters that count: at most the quota's value (plus those recorded without enforcement).</summary>
    [Id(0)] public HashSet<string> Clusters { get; set; } = [];
    /// <summary>The backfill ran: the clusters that existed before this grain had state are in <see cref="Clusters"/>.</summary>
    [Id(1)] public bool Counted { get; set; }
    /// <summary>The <see cref="IQuotaSettingsGrain"/> generation of the count: a quota configured again since then
    /// missed the creates of the time without it, and counts again.</summary>
    [Id(2)] public int Generation { get; set; }
}

/// <summary>
/// One cluster quota's claims (see <see cref="IClusterQuotaGrain"/>). Rules, docs/crash-consistency.md ("Quota claims"):
/// without state it counts the live clusters of its scope once (the backfill); before it refuses, it asks each claimed
/// cluster whether it still counts here and drops those that do not (a create lost between its claim and its intent,
/// a cluster deleted while the quota was not configured).
/// </summary>
public abstract class ClusterQuotaGrain(IPersistentState<ClusterQuotaState> state, IClusterDirectory directory, ILogger logger) : Grain
{
    protected string Key => this.GetPrimaryKeyString();
    /// <summary>The scope's name in <see cref="IQuotaSettingsGrain"/>.</summary>
    protected abstract string SettingsScope { get; }
    protected abstract bool Counts(ClusterQuotaScope scope);
    protected abstract int? Limit(string planName);
    protected abstract string Refusal(int limit, int used, string planName);

    public override Task OnActivateAsync(CancellationToken cancellationToken) => EnsureCountedAsync(cancellationToken);

    /// <summary>
    /// The backfill: without state, or when the quota was configured again since the count (creates ran without it
    /// meanwhile), the live clusters of the scope are counted from the fleet; the claims made since the last count
    /// stay (a claim whose intent is not recorded yet is not in the fleet).
    /// </summary>
    private async Task EnsureCountedAsync(CancellationToken cancellationToken = default)
    {
        var generation = await GrainFactory.GetGrain<IQuotaSettingsGrain>(IQuotaSettingsGrain.Key).Generation(SettingsScope);
        if (state.State.Counted && state.State.Generation == generation) return;
        var found = new ConcurrentBag<string>();
        var grains = GrainFactory; // the loop's bodies run off the grain's scheduler
        await Parallel.ForEachAsync(directory.ListClusterIdsAsync(cancellationToken), new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
            async (id, _) => { if (await CountsAsync(grains, id)) found.Add(id); });
        state.State.Clusters.UnionWith(found);
        state.State.Counted = true;
        state.State.Generation = generation;
        await state.WriteStateAsync(cancellationToken);
        logger.LogInformation("Quota {Quota} {Key}: counted {Count} existing clusters (generation {Generation})", GetType().Name, Key, found.Count, generation);
    }

    public async Task<string?> Claim(string instanceId, string planName, bool enforce)
    {
        await EnsureCountedAsync();
        if (state.State.Clusters.Contains(instanceId)) return null;
        if (enforce && Limit(planName) is { } limit && state.State.Clusters.Count >= limit)
        {
            await RecountClaimsAsync();
            if (state.State.Clusters.Count >= limit)
            {
                Telemetry.BrokerMetrics.Refused("quota");
                return Refusal(limit, state.State.Clusters.Count, planName);
            }
        }
        state.State.Clusters.Add(instanceId);
        await state.WriteStateAsync();
        return null;
    }

    public async Task Release(string instanceId)
    {
        if (state.State.Clusters.Remove(instanceId)) await state.WriteStateAsync();
    }

    public Task<int> GetUse() => Task.FromResult(state.State.Clusters.Count);

    /// <summary>Drops the claims whose cluster has no live state in this scope (at most the quota's value of calls).</summary>
    private async Task RecountClaimsAsync()
    {
        var stale = new ConcurrentBag<string>();
        var grains = GrainFactory;
        await Parallel.ForEachAsync(state.State.Clusters.ToList(), new ParallelOptions { MaxDegreeOfParallelism = 16 },
            async (id, _) => { if (!await CountsAsync(grains, id)) stale.Add(id); });
        if (stale.IsEmpty) return;
        state.State.Clusters.ExceptWith(stale);
        await state.WriteStateAsync();
        logger.LogWarning("Quota {Quota} {Key}: dropped claims of clusters that no longer count here: {Ids}", GetType().Name, Key, string.Join(", ", stale));
    }

    private async Task<bool> CountsAsync(IGrainFactory grains, string instanceId) =>
        InstanceIds.IsValid(instanceId) && await grains.GetGrain<IClusterGrain>(instanceId).GetQuotaScope() is { } scope && Counts(scope);
}

public sealed class PlanQuotaGrain(
    [PersistentState("plan-quota", "store")] IPersistentState<ClusterQuotaState> state,
    IClusterDirectory directory, IOptions<QuotaOptions> quotas, ILogger<PlanQuotaGrain> logger) : ClusterQuotaGrain(state, directory, logger), IPlanQuotaGrain
{
    protected override string SettingsScope => QuotaDecisions.PlanScope(Key);
    protected override bool Counts(ClusterQuotaScope scope) => scope.PlanId == Key;
    protected override int? Limit(string planName) => quotas.Value.ClustersPerPlanLimit(Key, planName);
    protected override string Refusal(int limit, int used, string planName) => QuotaDecisions.PlanRefusal(planName, limit, used);
}

public sealed class OrgQuotaGrain(
    [PersistentState("org-quota", "store")] IPersistentState<ClusterQuotaState> state,
    IClusterDirectory directory, IOptions<QuotaOptions> quotas, ILogger<OrgQuotaGrain> logger) : ClusterQuotaGrain(state, directory, logger), IOrgQuotaGrain
{
    protected override string SettingsScope => QuotaDecisions.OrgScope;
    protected override bool Counts(ClusterQuotaScope scope) => QuotaDecisions.OrgKey(scope.OrganizationGuid) == Key;
    protected override int? Limit(string planName) => quotas.Value.ClustersPerOrg;
    protected override string Refusal(int limit, int used, string planName) => QuotaDecisions.OrgRefusal(limit, used);
}
