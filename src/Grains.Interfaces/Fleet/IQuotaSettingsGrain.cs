namespace OnDemand.Grains.Interfaces.Fleet;

/// <summary>
/// Which cluster quotas the silos have been started with, over time (one grain, key <see cref="Key"/>): a quota that
/// was not configured for a while missed the creates of that time, so when it is configured again its grains count the
/// fleet afresh (docs/fleet.md, "Quotas"). A scope is "plan:&lt;plan id&gt;" or "org".
/// </summary>
[Alias("OnDemand.IQuotaSettingsGrain")]
public interface IQuotaSettingsGrain : IGrainWithStringKey
{
    public const string Key = "quotas";

    /// <summary>A silo started with these quota scopes configured: a scope configured again after a silo ran without
    /// it gets a new generation.</summary>
    [Alias("Observe")]
    Task Observe(IReadOnlyCollection<string> configuredScopes);

    /// <summary>The scope's generation: its quota grains' claims are complete only if counted in this generation.</summary>
    [AlwaysInterleave, Alias("Generation")]
    Task<int> Generation(string scope);
}
