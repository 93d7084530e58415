namespace OnDemand.Grains.Fleet;

/// <summary>Bound from the "Upgrades" section.</summary>
public sealed class UpgradeOptions
{
    public const string Section = "Upgrades";
    /// <summary>How often an active run polls its running upgrades and starts new ones.</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>How long a busy instance (another operation running) waits before the run asks again.</summary>
    public TimeSpan BusyRetryDelay { get; set; } = TimeSpan.FromSeconds(30);
}
