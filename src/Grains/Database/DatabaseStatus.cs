namespace OnDemand.Grains.Database;

[GenerateSerializer, Alias("OnDemand.DatabaseStatus")]
public enum DatabaseStatus { None = 0, Creating = 1, Ready = 2, Deleting = 3, Failed = 4, Deleted = 5 }
