using Microsoft.Extensions.Logging;
using OnDemand.Grains.Concourse;
using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Fleet;

/// <summary>See <see cref="IOrphanGrain"/>. Holds no state: each call reads Concourse and the fleet afresh.</summary>
public sealed class OrphanGrain(IConcourseClient concourse, ILogger<OrphanGrain> logger) : Grain, IOrphanGrain
{
    public async Task<OrphanReport> Find()
    {
        var pipelines = await concourse.ListPipelinesAsync(CancellationToken.None);
        var fleet = await FleetReader.ReadAsync(GrainFactory);
        var live = fleet.Where(f => OrphanDecisions.IsLive(f.View)).ToDictionary(f => f.Claim.InstanceId, f => f.View!);

        var orphans = new List<string>();
        foreach (var pipeline in pipelines.Order(StringComparer.Ordinal))
        {
            if (OrphanDecisions.InstanceIdOf(pipeline) is not { } id || live.ContainsKey(id)) continue;
            // Not in the registry: ask the instance itself (a cluster created before the registry existed is live).
            if (InstanceIds.IsValid(id) && OrphanDecisions.IsLive(await GrainFactory.GetGrain<IClusterGrain>(id).GetDashboard())) continue;
            orphans.Add(pipeline);
        }
        var names = pipelines.ToHashSet(StringComparer.Ordinal);
        var missing = live.Values
            .Where(v => OrphanDecisions.NeedsPipeline(v) && !names.Contains(v.PipelineName))
            .OrderBy(v => v.InstanceId, StringComparer.Ordinal)
            .Select(v => new MissingPipeline(v.InstanceId, v.PipelineName, v.Status))
            .ToList();
        return new OrphanReport(orphans, missing, OrphanDecisions.Token(orphans));
    }

    public async Task<OrphanCleanup> CleanUp(string confirmToken, string? by)
    {
        var report = await Find();
        if (report.ConfirmToken is null) return new([], "there is no orphan pipeline to delete");
        if (report.ConfirmToken != confirmToken)
            return new([], "the orphan pipelines changed since that listing (or the token is wrong): list them again and confirm with the new token");
        var deleted = new List<string>();
        foreach (var pipeline in report.OrphanPipelines)
        {
            await concourse.DeletePipelineAsync(pipeline, CancellationToken.None);
            deleted.Add(pipeline);
            logger.LogWarning("Orphan pipeline {Pipeline} deleted by {By}", pipeline, by);
        }
        return new(deleted, null);
    }
}
