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

/// <summary>
/// Grain keys of the name index. Names and space guids are user text: the key is a hash of both, so no character of
/// theirs can reach the storage layer (Orleans' ADO.NET storage formats keys into strings and throws on braces).
/// </summary>
public static class ClusterNames
{
    public static string Key(string spaceGuid, string instanceName) =>
        "name-" + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(
            System.Text.Encoding.UTF8.GetBytes($"{spaceGuid.Length}:{spaceGuid}/{instanceName}")));

    /// <summary>The key names had before they were hashed, still read for clusters named back then; null when such a
    /// name could never have been stored.</summary>
    public static string? LegacyKey(string spaceGuid, string instanceName)
    {
        var key = $"{spaceGuid}/{instanceName}";
        return key.AsSpan().IndexOfAny(['{', '}', '\0']) < 0 && key.Length <= 400 ? key : null;
    }
}
