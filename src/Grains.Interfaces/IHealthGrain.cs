namespace OnDemand.Grains.Interfaces;

/// <summary>A stateless ping so a gateway can prove it reaches a silo (readiness).</summary>
[Alias("OnDemand.IHealthGrain")]
public interface IHealthGrain : IGrainWithIntegerKey
{
    [Alias("Ping")]
    Task<string> Ping();
}
