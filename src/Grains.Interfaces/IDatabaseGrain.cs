using OnDemand.Grains.Interfaces.Messages;

namespace OnDemand.Grains.Interfaces;

/// <summary>
/// One database instance inside a dedicated cluster, keyed by its OSB instance id. It registers with its cluster
/// before any side effect; the cluster performs (and so serializes) every change inside itself.
/// </summary>
[Alias("OnDemand.IDatabaseGrain")]
public interface IDatabaseGrain : IGrainWithStringKey
{
    [Alias("Provision")]
    Task<OperationResult> Provision(ProvisionRequest request);

    [Alias("Update")]
    Task<OperationResult> Update(UpdateRequest request);

    [Alias("Deprovision")]
    Task<OperationResult> Deprovision(DeprovisionRequest request);

    [AlwaysInterleave, Alias("GetLastOperation")]
    Task<LastOperationView> GetLastOperation(string? operation);

    [AlwaysInterleave, Alias("Fetch")]
    Task<InstanceView> Fetch();

    [Alias("Bind")]
    Task<BindResult> Bind(string bindingId, BindRequest request);

    [Alias("Unbind")]
    Task<BindResult> Unbind(string bindingId, string serviceId, string planId);

    [AlwaysInterleave, Alias("GetBinding")]
    Task<BindResult> GetBinding(string bindingId);
}
