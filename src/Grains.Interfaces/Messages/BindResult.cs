namespace OnDemand.Grains.Interfaces.Messages;

[GenerateSerializer, Immutable, Alias("OnDemand.BindResult")]
public sealed record BindResult(BindOutcome Outcome, string? CredentialsJson = null, string? Description = null);
