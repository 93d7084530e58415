namespace OnDemand.Grains.Cluster;

/// <summary>A database instance registered inside the cluster.</summary>
[GenerateSerializer, Alias("OnDemand.ChildDatabase")]
public sealed class ChildDatabase
{
    [Id(0)] public string InstanceId { get; set; } = "";
    [Id(1)] public string? Name { get; set; }
    [Id(2)] public string PlanId { get; set; } = "";
    [Id(3)] public string State { get; set; } = "";
    // [Id(4)] was a binding count, now derived from BindingIds; never reuse the id.
    [Id(5)] public List<string> BindingIds { get; set; } = [];
    [Id(6)] public string ServiceId { get; set; } = "";
}
