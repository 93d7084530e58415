namespace OnDemand.Grains;

[StatelessWorker]
public sealed class HealthGrain : Grain, IHealthGrain
{
    public Task<string> Ping() => Task.FromResult(RuntimeIdentity);
}
