using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Fleet;

[GenerateSerializer, Alias("OnDemand.MaintenanceState")]
public sealed class MaintenanceState
{
    [Id(0)] public bool On { get; set; }
    [Id(1)] public string? Reason { get; set; }
    [Id(2)] public DateTimeOffset? Until { get; set; }
    [Id(3)] public DateTimeOffset? ChangedAt { get; set; }
    [Id(4)] public string? ChangedBy { get; set; }
}

/// <summary>The operator's maintenance switch; see <see cref="IMaintenanceGrain"/>.</summary>
public sealed class MaintenanceGrain(
    [PersistentState("maintenance", "store")] IPersistentState<MaintenanceState> state,
    TimeProvider time) : Grain, IMaintenanceGrain
{
    public Task<MaintenanceStatus> Get() => Task.FromResult(View());

    public async Task<MaintenanceStatus> Set(MaintenanceChange change)
    {
        state.State = new MaintenanceState
        {
            On = change.On,
            Reason = change.On ? change.Reason : null,
            Until = change.On ? change.Until : null,
            ChangedAt = time.GetUtcNow(),
            ChangedBy = change.ChangedBy,
        };
        await state.WriteStateAsync();
        return View();
    }

    private MaintenanceStatus View()
    {
        var s = state.State;
        return new MaintenanceStatus(s.On, s.Reason, s.Until, s.ChangedAt, s.ChangedBy);
    }
}
