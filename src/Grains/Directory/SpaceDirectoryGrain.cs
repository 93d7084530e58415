namespace OnDemand.Grains.Directory;

/// <summary>Cluster names of one space. Cloud Controller keeps instance names unique within a space.</summary>
public sealed class SpaceDirectoryGrain([PersistentState("space-directory", "store")] IPersistentState<SpaceDirectoryState> state)
    : Grain, ISpaceDirectoryGrain
{
    public async Task Register(string name, string clusterId, string? previousName)
    {
        var clusters = state.State.Clusters;
        var changed = false;
        if (previousName is not null && previousName != name && clusters.TryGetValue(previousName, out var previous) && previous == clusterId)
            changed |= clusters.Remove(previousName);
        if (!clusters.TryGetValue(name, out var current) || current != clusterId)
        {
            clusters[name] = clusterId;
            changed = true;
        }
        if (changed) await state.WriteStateAsync();
    }

    public async Task Unregister(string name, string clusterId)
    {
        if (state.State.Clusters.TryGetValue(name, out var current) && current == clusterId)
        {
            state.State.Clusters.Remove(name);
            await state.WriteStateAsync();
        }
    }

    public Task<string?> Resolve(string name) =>
        Task.FromResult(state.State.Clusters.TryGetValue(name, out var id) ? id : null);
}
