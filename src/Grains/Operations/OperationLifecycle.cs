using OnDemand.Grains.Cluster;

namespace OnDemand.Grains.Operations;

/// <summary>What a tick should do with a running operation now.</summary>
public enum TickDue
{
    /// <summary>Backing off after a failure: nothing this tick.</summary>
    NotYet,
    /// <summary>Past its deadline: fail it with <see cref="OperationLifecycle.TimedOut"/>.</summary>
    PastDeadline,
    /// <summary>Take the next step.</summary>
    Now,
}

/// <summary>
/// The lifecycle of a recorded operation, the same for clusters and databases (docs/crash-consistency.md, rules 3 and
/// 11): it starts in progress with a deadline from the plan's <c>maximum_polling_duration</c>; each tick either waits
/// out the back-off, fails it past the deadline, or takes a step; a transient failure backs off; it ends succeeded or
/// failed, stamped with the time. Pure: the grain persists the record and the <see cref="OperationDriver"/> keeps the
/// timer and reminder.
/// </summary>
public sealed class OperationLifecycle(ClusterLifecycleOptions options, TimeProvider time)
{
    /// <summary>Fills the lifecycle fields of a new operation: in progress, due now, a deadline.</summary>
    public T Begin<T>(T operation, OperationKind kind, ServicePlan? plan, string description) where T : IRecordedOperation
    {
        var now = time.GetUtcNow();
        operation.Id = $"{kind.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}";
        operation.Kind = kind;
        operation.State = LastOperationState.InProgress;
        operation.Description = description;
        operation.StartedAt = now;
        operation.Deadline = now + TimeSpan.FromSeconds(plan?.MaximumPollingDuration ?? 7200); // the catalog's default
        operation.NextAttemptAt = now;
        return operation;
    }

    public TickDue Due(IRecordedOperation operation)
    {
        var now = time.GetUtcNow();
        if (now < operation.NextAttemptAt) return TickDue.NotYet;
        return now > operation.Deadline ? TickDue.PastDeadline : TickDue.Now;
    }

    /// <summary>The failure description of an operation past its deadline, naming what it was doing last.</summary>
    public static string TimedOut(IRecordedOperation operation, string what) =>
        $"{what} timed out after {FormatDuration(operation.Deadline - operation.StartedAt)} (last status: {operation.Description})";

    /// <summary>A step went well: the back-off starts over.</summary>
    public static void Progressed(IRecordedOperation operation) => operation.Attempts = 0;

    /// <summary>A step must be tried again: after a failure (<paramref name="failed"/>) the wait doubles, else it is the poll interval.</summary>
    public TimeSpan RetryLater(IRecordedOperation operation, bool failed)
    {
        operation.Attempts = failed ? operation.Attempts + 1 : 0;
        var delay = Backoff(operation.Attempts);
        operation.NextAttemptAt = time.GetUtcNow() + delay;
        return delay;
    }

    /// <summary>The operation ends: succeeded or failed, with the description last_operation shows from now on.</summary>
    public void Finish(IRecordedOperation operation, LastOperationState outcome, string description)
    {
        operation.State = outcome;
        operation.Description = description;
        operation.CompletedAt = time.GetUtcNow();
    }

    /// <summary>The wait after <paramref name="attempts"/> consecutive failures: the poll interval, doubled each time, capped.</summary>
    public TimeSpan Backoff(int attempts) =>
        TimeSpan.FromTicks(Math.Min(options.MaxRetryDelay.Ticks, options.PollInterval.Ticks << Math.Min(attempts, 16)));

    private static string FormatDuration(TimeSpan duration) =>
        duration.TotalHours >= 1 ? $"{duration.TotalHours:0.#} hours" : duration.TotalMinutes >= 1 ? $"{duration.TotalMinutes:0} minutes" : $"{duration.TotalSeconds:0} seconds";
}
