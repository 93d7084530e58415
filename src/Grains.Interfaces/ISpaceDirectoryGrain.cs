namespace OnDemand.Grains.Interfaces;

/// <summary>
/// Cluster instance names of one space (keyed by space guid), as their owners named them in Cloud Foundry, so
/// `-c '{"cluster": "my-team-db-cluster"}'` resolves inside the requester's space.
/// </summary>
[Alias("OnDemand.ISpaceDirectoryGrain")]
public interface ISpaceDirectoryGrain : IGrainWithStringKey
{
    /// <summary>Maps the name to the cluster; a rename passes the previous name to forget.</summary>
    [Alias("Register")]
    Task Register(string name, string clusterId, string? previousName);

    /// <summary>Forgets the name if it still maps to this cluster.</summary>
    [Alias("Unregister")]
    Task Unregister(string name, string clusterId);

    [AlwaysInterleave, Alias("Resolve")]
    Task<string?> Resolve(string name);
}
