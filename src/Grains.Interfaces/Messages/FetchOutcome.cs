namespace OnDemand.Grains.Interfaces.Messages;

[GenerateSerializer, Alias("OnDemand.FetchOutcome")]
public enum FetchOutcome { Found = 0, NotFound = 1, ConcurrencyError = 2 }
