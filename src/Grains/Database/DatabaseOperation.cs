using OnDemand.Grains.Operations;

namespace OnDemand.Grains.Database;

[GenerateSerializer, Alias("OnDemand.DatabaseOperation")]
public sealed class DatabaseOperation : IRecordedOperation
{
    [Id(0)] public string Id { get; set; } = "";
    [Id(1)] public OperationKind Kind { get; set; }
    [Id(2)] public LastOperationState State { get; set; }
    [Id(3)] public string Description { get; set; } = "";
    [Id(4)] public DateTimeOffset StartedAt { get; set; }
    [Id(5)] public DateTimeOffset Deadline { get; set; }
    [Id(6)] public DateTimeOffset? CompletedAt { get; set; }
    [Id(7)] public int Attempts { get; set; }
    [Id(8)] public DateTimeOffset NextAttemptAt { get; set; }

    public bool IsRunning => State == LastOperationState.InProgress;
}
