namespace OnDemand.Grains.Interfaces;

/// <summary>
/// One cluster name in one space, keyed "{space guid}/{instance name}", so `-c '{"cluster": "my-team-db-cluster"}'`
/// resolves inside the requester's space. One small grain per name (not one per space): no shared hot spot and no
/// state that grows with the space.
/// </summary>
[Alias("OnDemand.IClusterNameGrain")]
public interface IClusterNameGrain : IGrainWithStringKey
{
    /// <summary>The name now denotes this cluster (Cloud Controller keeps instance names unique per space).</summary>
    [Alias("Claim")]
    Task Claim(string clusterId);

    /// <summary>Forgets the name if it still denotes this cluster (rename, delete).</summary>
    [Alias("Release")]
    Task Release(string clusterId);

    [AlwaysInterleave, Alias("Resolve")]
    Task<string?> Resolve();
}

public static class ClusterNames
{
    public static string Key(string spaceGuid, string instanceName) => $"{spaceGuid}/{instanceName}";
}
