namespace OnDemand.Grains.NameIndex;

[GenerateSerializer, Alias("OnDemand.ClusterNameState")]
public sealed class ClusterNameState
{
    [Id(0)] public string? ClusterId { get; set; }
}
