using OnDemand.Grains.Interfaces.Messages;

namespace OnDemand.Grains.Interfaces;

/// <summary>
/// What every service instance answers, cluster or database, keyed by its OSB instance id: the OSB instance
/// operations. Changes run one at a time per instance; reads are answered from state and interleave with them.
/// </summary>
[Alias("OnDemand.IServiceInstanceGrain")]
public interface IServiceInstanceGrain : IGrainWithStringKey
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
}
