namespace OnDemand.Grains.Interfaces.Messages;

/// <summary>Life of a cluster instance. None: the grain holds no instance (never created).</summary>
[GenerateSerializer, Alias("OnDemand.ClusterStatus")]
public enum ClusterStatus { None = 0, Creating = 1, Ready = 2, Updating = 3, Deleting = 4, Failed = 5, Deleted = 6 }
