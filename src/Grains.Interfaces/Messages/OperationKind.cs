namespace OnDemand.Grains.Interfaces.Messages;

[GenerateSerializer, Alias("OnDemand.OperationKind")]
public enum OperationKind { Create = 0, Update = 1, Delete = 2 }
