namespace OnDemand.Grains.Directory;

[GenerateSerializer, Alias("OnDemand.SpaceDirectoryState")]
public sealed class SpaceDirectoryState
{
    /// <summary>Cluster instance name (as named in the space) -> cluster instance id.</summary>
    [Id(0)] public Dictionary<string, string> Clusters { get; set; } = new(StringComparer.Ordinal);
}
