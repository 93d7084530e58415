namespace OnDemand.Grains.Interfaces.Fleet;

/// <summary>
/// The operator's maintenance switch, one for the whole broker (key 0). Its state is persisted, so every silo and
/// gateway sees the same value and it survives restarts. Reads interleave (gateways ask it on mutating requests).
/// </summary>
[Alias("OnDemand.IMaintenanceGrain")]
public interface IMaintenanceGrain : IGrainWithIntegerKey
{
    [AlwaysInterleave, Alias("Get")]
    Task<MaintenanceStatus> Get();

    [Alias("Set")]
    Task<MaintenanceStatus> Set(MaintenanceChange change);
}

/// <param name="Until">when the operator expects maintenance to end (the time users are told to come back).</param>
[GenerateSerializer, Immutable, Alias("OnDemand.MaintenanceStatus")]
public sealed record MaintenanceStatus(bool On, string? Reason, DateTimeOffset? Until, DateTimeOffset? ChangedAt, string? ChangedBy)
{
    public static readonly MaintenanceStatus Off = new(false, null, null, null, null);
}

[GenerateSerializer, Immutable, Alias("OnDemand.MaintenanceChange")]
public sealed record MaintenanceChange(bool On, string? Reason, DateTimeOffset? Until, string? ChangedBy);
