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

    /// <summary>
    /// Whether this id names a database instance: one exists (deleted ones keep their id) or a create of it is running
    /// now. Answered from memory without waiting; the cluster grain of the same id asks it before it honours a
    /// reservation a crashed create may have left (docs/crash-consistency.md).
    /// </summary>
    [AlwaysInterleave, Alias("HoldsInstanceId")]
    Task<bool> HoldsInstanceId();
}
