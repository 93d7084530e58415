using OnDemand.Grains.Interfaces.Messages;

namespace OnDemand.Grains.Interfaces.Fleet;

/// <summary>
/// Compares the Concourse team's pipelines with the fleet (key 0): pipelines named like the broker's that no live
/// instance owns, and live instances whose pipeline is missing. Only the former can be cleaned up, and only with the
/// confirm token of a listing that still holds.
/// </summary>
[Alias("OnDemand.IOrphanGrain")]
public interface IOrphanGrain : IGrainWithIntegerKey
{
    [Alias("Find")]
    Task<OrphanReport> Find();

    [Alias("CleanUp")]
    Task<OrphanCleanup> CleanUp(string confirmToken, string? by);
}

[GenerateSerializer, Immutable, Alias("OnDemand.MissingPipeline")]
public sealed record MissingPipeline(string InstanceId, string Pipeline, ClusterStatus Status);

/// <param name="ConfirmToken">names exactly this set of orphan pipelines; null when there is none.</param>
[GenerateSerializer, Immutable, Alias("OnDemand.OrphanReport")]
public sealed record OrphanReport(IReadOnlyList<string> OrphanPipelines, IReadOnlyList<MissingPipeline> MissingPipelines, string? ConfirmToken);

[GenerateSerializer, Immutable, Alias("OnDemand.OrphanCleanup")]
public sealed record OrphanCleanup(IReadOnlyList<string> Deleted, string? Refusal);
