using Microsoft.Extensions.Options;
using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.BrokerGateway.Operator;

/// <summary>Bound from the "Maintenance" section.</summary>
public sealed class MaintenanceSettings
{
    public const string Section = "Maintenance";
    /// <summary>How long a gateway trusts the switch it last read: a change reaches every gateway within this time.</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromSeconds(2);
    /// <summary>What users are told to wait when the operator gave no end time.</summary>
    public TimeSpan DefaultRetryAfter { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>
/// The gateway's view of the maintenance switch (IMaintenanceGrain): read from the grain at most once per
/// CacheDuration, only by mutating requests; catalog and last_operation never look at it.
/// </summary>
public sealed class MaintenanceSwitch(IGrainFactory grains, IOptions<MaintenanceSettings> settings, TimeProvider time)
{
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private (MaintenanceStatus Status, DateTimeOffset ReadAt)? _cached;

    private IMaintenanceGrain Grain => grains.GetGrain<IMaintenanceGrain>(0);

    public async ValueTask<MaintenanceStatus> CurrentAsync()
    {
        if (_cached is { } fresh && time.GetUtcNow() - fresh.ReadAt < settings.Value.CacheDuration) return fresh.Status;
        await _refresh.WaitAsync();
        try
        {
            if (_cached is { } other && time.GetUtcNow() - other.ReadAt < settings.Value.CacheDuration) return other.Status;
            var status = await Grain.Get();
            _cached = (status, time.GetUtcNow());
            return status;
        }
        finally
        {
            _refresh.Release();
        }
    }

    public async Task<MaintenanceStatus> SetAsync(MaintenanceChange change)
    {
        var status = await Grain.Set(change);
        _cached = (status, time.GetUtcNow());
        return status;
    }

    /// <summary>Seconds to tell clients to wait (Retry-After): until the announced end, at least a minute.</summary>
    public int RetryAfterSeconds(MaintenanceStatus status)
    {
        var wait = status.Until is { } until ? until - time.GetUtcNow() : settings.Value.DefaultRetryAfter;
        return (int)Math.Max(60, Math.Ceiling(wait.TotalSeconds));
    }

    public string Description(MaintenanceStatus status)
    {
        var reason = string.IsNullOrWhiteSpace(status.Reason) ? "" : $" ({status.Reason.Trim()})";
        var comeBack = status.Until is { } until && until > time.GetUtcNow()
            ? $"until {until.UtcDateTime:yyyy-MM-dd HH:mm} UTC; try again after that time"
            : $"for now; try again in {Math.Ceiling(RetryAfterSeconds(status) / 60.0)} minutes";
        return $"the service broker is in maintenance{reason}: creating, updating and deleting service instances and bindings is paused {comeBack}. " +
               "Nothing was changed; existing instances keep running and operations already started go on.";
    }
}
