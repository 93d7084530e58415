namespace OnDemand.Grains.Operations;

/// <summary>
/// What every recorded operation has, whatever it drives (a Concourse pipeline for a cluster, a child step for a
/// database): its lifecycle fields, written by <see cref="OperationLifecycle"/> only. The grains' own records add their
/// steps; the serialized shape of each record is its own (docs/crash-consistency.md, rule 1).
/// </summary>
public interface IRecordedOperation
{
    string Id { get; set; }
    OperationKind Kind { get; set; }
    LastOperationState State { get; set; }
    string Description { get; set; }
    DateTimeOffset StartedAt { get; set; }
    DateTimeOffset Deadline { get; set; }
    DateTimeOffset? CompletedAt { get; set; }
    /// <summary>Consecutive transient failures, for back-off.</summary>
    int Attempts { get; set; }
    DateTimeOffset NextAttemptAt { get; set; }
    bool IsRunning => State == LastOperationState.InProgress;
}
