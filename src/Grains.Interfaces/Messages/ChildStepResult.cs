namespace OnDemand.Grains.Interfaces.Messages;

/// <param name="ClusterName">the cluster's instance name (or id), for the database's descriptions.</param>
/// <param name="CredentialsJson">for bindings: the credentials object, in clear (the database grain encrypts it at rest).</param>
[GenerateSerializer, Immutable, Alias("OnDemand.ChildStepResult")]
public sealed record ChildStepResult(ChildStepOutcome Outcome, string Description, string? ClusterName = null, string? CredentialsJson = null);
