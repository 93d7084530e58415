namespace OnDemand.Grains.Interfaces.Messages;

[GenerateSerializer, Alias("OnDemand.LastOperationState")]
public enum LastOperationState { InProgress = 0, Succeeded = 1, Failed = 2 }
