namespace OnDemand.Grains.Interfaces.Messages;

/// <param name="Operation">the operation id to poll with, for Accepted and InProgress.</param>
/// <param name="Description">a sentence for the Cloud Foundry user, for refusals.</param>
[GenerateSerializer, Immutable, Alias("OnDemand.OperationResult")]
public sealed record OperationResult(OperationOutcome Outcome, string? Operation = null, string? Description = null)
{
    public static OperationResult Accepted(string operation) => new(OperationOutcome.Accepted, operation);
    public static OperationResult InProgress(string operation) => new(OperationOutcome.InProgress, operation);
    public static readonly OperationResult Completed = new(OperationOutcome.Completed);
    public static readonly OperationResult AlreadyExists = new(OperationOutcome.AlreadyExists);
    public static readonly OperationResult Gone = new(OperationOutcome.Gone);
    public static OperationResult Conflict(string description) => new(OperationOutcome.Conflict, null, description);
    public static OperationResult NotFound(string description) => new(OperationOutcome.NotFound, null, description);
    public static OperationResult Busy(string description) => new(OperationOutcome.ConcurrencyError, null, description);
    public static OperationResult BadRequest(string description) => new(OperationOutcome.BadRequest, null, description);
    public static readonly OperationResult AsyncRequired = new(OperationOutcome.AsyncRequired);
}
