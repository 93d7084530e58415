namespace OnDemand.Grains.NameIndex;

public sealed class ClusterNameGrain([PersistentState("cluster-name", "store")] IPersistentState<ClusterNameState> state)
    : Grain, IClusterNameGrain
{
    public async Task Claim(string clusterId)
    {
        if (state.State.ClusterId == clusterId) return;
        state.State.ClusterId = clusterId;
        await state.WriteStateAsync();
    }

    public async Task Release(string clusterId)
    {
        if (state.State.ClusterId != clusterId) return;
        await state.ClearStateAsync();
        state.State = new ClusterNameState();
    }

    public Task<string?> Resolve() => Task.FromResult(state.State.ClusterId);
}
