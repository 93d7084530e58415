namespace OnDemand.Grains.Cluster;

/// <summary>Bound from the "Lifecycle" configuration section.</summary>
public sealed class ClusterLifecycleOptions
{
    public const string Section = "Lifecycle";
    /// <summary>How often an active cluster polls its running build.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(5);
    /// <summary>
    /// Period of the durable wake-up (a reminder) that resumes an operation after its grain's silo died. Orleans
    /// refuses periods under a minute unless the silo lowers ReminderOptions.MinimumReminderPeriod (the silo does it
    /// to match this setting).
    /// </summary>
    public TimeSpan ReminderPeriod { get; set; } = TimeSpan.FromMinutes(1);
    /// <summary>Back-off cap between retries while Concourse is unreachable.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);
    /// <summary>Operations kept per instance for its dashboard.</summary>
    public int HistoryLength { get; set; } = 20;
    /// <summary>Tries to deliver one failure alert before giving up (it is logged either way).</summary>
    public int AlertAttempts { get; set; } = 5;
}
