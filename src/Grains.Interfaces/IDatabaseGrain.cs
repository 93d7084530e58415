using OnDemand.Grains.Interfaces.Messages;

namespace OnDemand.Grains.Interfaces;

/// <summary>
/// One database instance inside a dedicated cluster, keyed by its OSB instance id. It registers with its cluster
/// before any side effect; the cluster performs (and so serializes) every change inside itself.
/// </summary>
[Alias("OnDemand.IDatabaseGrain")]
public interface IDatabaseGrain : IServiceInstanceGrain
{
    [Alias("Bind")]
    Task<BindResult> Bind(string bindingId, BindRequest request);

    [Alias("Unbind")]
    Task<BindResult> Unbind(string bindingId, string serviceId, string planId);

    [AlwaysInterleave, Alias("GetBinding")]
    Task<BindResult> GetBinding(string bindingId);
}
