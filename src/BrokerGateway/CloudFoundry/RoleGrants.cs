using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace OnDemand.BrokerGateway.CloudFoundry;

/// <summary>
/// Whether a user holds an allowed role (CloudFoundry__AllowedRoles) in a space, asked of the Cloud Foundry API. A
/// grant is remembered for CloudFoundry__GrantCacheTime (default 30 s), so a revoked role may still work that long;
/// a refusal is never remembered, so a role just given works at once.
/// </summary>
public sealed class RoleGrants(CloudFoundryApi api, IOptions<CloudFoundrySettings> settings,
    [FromKeyedServices(CloudFoundryServices.ClockKey)] TimeProvider time)
{
    private const int PruneAbove = 10_000;
    private readonly ConcurrentDictionary<(string User, string Space), DateTimeOffset> _granted = new();

    public async Task<bool> AllowedAsync(string userGuid, string spaceGuid, CancellationToken cancellationToken)
    {
        var key = (userGuid, spaceGuid);
        if (_granted.TryGetValue(key, out var until) && time.GetUtcNow() < until) return true;
        var allowed = await api.HasSpaceRoleAsync(userGuid, spaceGuid, settings.Value.Roles, cancellationToken);
        if (allowed && settings.Value.GrantCacheTime > TimeSpan.Zero)
        {
            if (_granted.Count > PruneAbove) Prune();
            _granted[key] = time.GetUtcNow() + settings.Value.GrantCacheTime;
        }
        else _granted.TryRemove(key, out _);
        return allowed;
    }

    private void Prune()
    {
        var now = time.GetUtcNow();
        foreach (var (key, until) in _granted)
            if (until <= now) _granted.TryRemove(key, out _);
    }
}
