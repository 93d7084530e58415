namespace OnDemand.Grains.Interfaces.Messages;

/// <summary>One operation of an instance's history, as operators and the instance's dashboard see it.</summary>
[GenerateSerializer, Immutable, Alias("OnDemand.OperationRecord")]
public sealed record OperationRecord(
    string Id,
    OperationKind Kind,
    LastOperationState State,
    DateTimeOffset StartedAt,
    DateTimeOffset? CompletedAt,
    string Description,
    string? BuildUrl);
