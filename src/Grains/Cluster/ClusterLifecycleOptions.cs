namespace OnDemand.Grains.Cluster;

/// <summary>Bound from the "Lifecycle" configuration section.</summary>
public sealed class ClusterLifecycleOptions
{
    public const string Section = "Lifecycle";
    /// <summary>How often an active cluster polls its running build.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>Back-off cap between retries while Concourse is unreachable.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>Operations kept per instance for its dashboard.</summary>
    public int HistoryLength { get; set; } = 20;
    /// <summary>Tries to deliver one failure alert before giving up (it is logged either way).</summary>
    public int AlertAttempts { get; set; } = 5;
}
