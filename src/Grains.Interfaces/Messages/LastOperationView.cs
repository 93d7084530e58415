namespace OnDemand.Grains.Interfaces.Messages;

/// <summary>The answer to last_operation, read from grain state only.</summary>
/// <param name="Found">false when the instance never existed (404).</param>
[GenerateSerializer, Immutable, Alias("OnDemand.LastOperationView")]
public sealed record LastOperationView(bool Found, LastOperationState State, string Description)
{
    public static readonly LastOperationView Unknown = new(false, LastOperationState.Failed, "");
}
