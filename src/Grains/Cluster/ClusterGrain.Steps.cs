using System.Text.Json.Nodes;
using OnDemand.Grains.Concourse;
using OnDemand.Grains.Credentials;
using OnDemand.Grains.Pipelines;
using OnDemand.Grains.Telemetry;

namespace OnDemand.Grains.Cluster;

/// <summary>
/// The steps of an operation against Concourse (and CredHub). Each is idempotent or checks Concourse first, so a step
/// may run twice but its effect happens once (docs/crash-consistency.md, rule 2; docs/concourse-api.md); after every
/// external call the step checks that its operation is still the current one.
/// </summary>
public sealed partial class ClusterGrain
{
    private async Task AdvanceAsync(ClusterOperation operation, CancellationToken cancellationToken)
    {
        while (operation.IsRunning)
        {
            switch (operation.Step)
            {
                case OperationStep.StoreCredentials:
                    await StoreCredentialsAsync(operation, cancellationToken);
                    break;
                case OperationStep.SetPipeline:
                    if (!await SetPipelineAsync(operation, cancellationToken)) return;
                    break;
                case OperationStep.Unpause:
                    await UnpauseAsync(operation, cancellationToken);
                    break;
                case OperationStep.Trigger:
                    await TriggerAsync(operation, cancellationToken);
                    break;
                case OperationStep.AwaitBuild:
                    if (!await AwaitBuildAsync(operation, cancellationToken)) return;
                    break;
                case OperationStep.AbortBuild:
                    await AbortRunningDeploysAsync(operation, cancellationToken);
                    break;
                case OperationStep.DestroyPipeline:
                    await concourse.DeletePipelineAsync(S.Pipeline.Name, cancellationToken);
                    EnsureCurrent(operation);
                    S.Pipeline.MayExist = false;
                    await ForgetCredentialsAsync(cancellationToken);
                    EnsureCurrent(operation);
                    await CompleteAsync(operation, "cluster deleted");
                    return;
                default:
                    throw new InvalidOperationException($"operation {operation.Id} cannot run step {operation.Step}");
            }
        }
    }

    /// <returns>false when the operation failed.</returns>
    private async Task<bool> SetPipelineAsync(ClusterOperation operation, CancellationToken cancellationToken)
    {
        var spec = operation.Target ?? S.Spec!;
        var (service, plan) = catalog.FindPlan(spec.ServiceId, spec.PlanId)
            ?? throw new InvalidOperationException($"plan {spec.PlanId} of instance {InstanceId} is not in the catalog");
        if (TryRender(service, plan, spec, S.Context!, out var rendered) is { } error)
        {
            await FailAsync(operation, FailureCause.Template, $"{Verb(operation)} failed: {error}");
            return false;
        }

        var pipeline = S.Pipeline;
        // Before the broker's first PUT the pipeline cannot exist (its name holds the instance id): a create skips the
        // read. Should one exist anyway, Concourse refuses the version-less PUT, and the retry, MayExist now set, reads.
        var current = pipeline.MayExist ? await concourse.GetPipelineConfigAsync(pipeline.Name, cancellationToken) : null;
        EnsureCurrent(operation);
        // Config versions come from a counter shared by all pipelines: only "different from ours" means anything.
        // While our own PUT may have landed unseen (ConfigPutSent), a newer version is presumed ours.
        if (current is not null && pipeline.ConfigVersion is { } known && current.Version != known && !operation.ConfigPutSent
            && !JsonNode.DeepEquals(JsonNode.Parse(current.ConfigJson), JsonNode.Parse(rendered!.ConfigJson)))
        {
            // Someone else changed the pipeline since the broker set it: report, never overwrite blindly. The
            // version is acknowledged so that the user's retry, once an operator has looked, goes through.
            pipeline.ConfigVersion = current.Version;
            await FailAsync(operation, FailureCause.EditedOutside,
                $"{Verb(operation)} failed: pipeline {pipeline.Name} was changed outside the broker (config version {current.Version}, the broker set version {known}). " +
                "Platform operators have been told; retry the update once they have reviewed it.");
            return false;
        }

        operation.ConfigPutSent = true;
        pipeline.MayExist = true;
        // Persisted only when a later version check depends on it; re-setting a config is otherwise idempotent.
        if (pipeline.ConfigVersion is not null) await PersistAsync();
        EnsureCurrent(operation);
        try
        {
            await concourse.SetPipelineConfigAsync(pipeline.Name, rendered!.ConfigJson, current?.Version, cancellationToken);
            EnsureCurrent(operation);
        }
        catch (ConcourseConfigConflictException e)
        {
            // Changed between our read and our write (or our own earlier PUT landed unseen): read again next time.
            throw new ConcourseUnavailableException($"pipeline config changed while being set: {e.Message}", e);
        }
        var written = await concourse.GetPipelineConfigVersionAsync(pipeline.Name, cancellationToken);
        EnsureCurrent(operation);
        pipeline.ConfigVersion = written;
        operation.ConfigPutSent = false;
        operation.Step = OperationStep.Unpause;
        operation.Description = $"{Verb(operation)}: pipeline {pipeline.Name} set, starting it";
        // Not persisted: after a crash the idempotent steps up to the trigger simply run again.
        RefreshViews();
        return true;
    }

    private async Task UnpauseAsync(ClusterOperation operation, CancellationToken cancellationToken)
    {
        try
        {
            await concourse.UnpausePipelineAsync(S.Pipeline.Name, cancellationToken);
            EnsureCurrent(operation);
            operation.Step = OperationStep.Trigger;
        }
        catch (ConcourseRejectedException e) when (e.StatusCode == 404)
        {
            // The pipeline is gone (an operator destroyed it): set it again, the delete job still has to run.
            logger.LogWarning("Cluster {InstanceId}: pipeline {Pipeline} is missing in Concourse; setting it again", InstanceId, S.Pipeline.Name);
            operation.Step = OperationStep.SetPipeline;
        }
        RefreshViews();
    }

    private async Task TriggerAsync(ClusterOperation operation, CancellationToken cancellationToken)
    {
        var job = JobOf(operation);
        var newest = (await concourse.GetJobBuildsAsync(S.Pipeline.Name, job, 1, cancellationToken)).FirstOrDefault();
        EnsureCurrent(operation);
        if (operation.BaselineBuildId is null)
        {
            operation.BaselineBuildId = newest?.Id ?? 0;
            S.Pipeline.EverTriggered = true;
            await PersistAsync();
            EnsureCurrent(operation);
        }
        else if (newest is not null && newest.Id > operation.BaselineBuildId)
        {
            // Our trigger went through but its answer was lost: adopt that build, never start a second one.
            logger.LogInformation("Cluster {InstanceId} {Operation}: adopting build {Build} of job {Job} triggered before a restart", InstanceId, operation.Id, newest.Id, job);
            await AdoptBuildAsync(operation, newest);
            return;
        }

        var build = await concourse.TriggerJobAsync(S.Pipeline.Name, job, cancellationToken);
        EnsureCurrent(operation);
        await AdoptBuildAsync(operation, build);
    }

    /// <summary>
    /// Not persisted: the trigger baseline already is, so after a crash the Trigger step finds this build (newer
    /// than the baseline) and adopts it again instead of triggering another.
    /// </summary>
    private Task AdoptBuildAsync(ClusterOperation operation, ConcourseBuild build)
    {
        operation.BuildId = build.Id;
        operation.BuildName = build.Name;
        operation.BuildUrl = concourse.BuildWebUrl(build);
        operation.Step = OperationStep.AwaitBuild;
        operation.Description = BuildDescription(operation, build.Status);
        RefreshViews();
        return Task.CompletedTask;
    }

    /// <returns>true when the build finished and the operation moved on; false while it runs or when it failed.</returns>
    private async Task<bool> AwaitBuildAsync(ClusterOperation operation, CancellationToken cancellationToken)
    {
        var build = await concourse.GetBuildAsync(operation.BuildId!.Value, cancellationToken);
        EnsureCurrent(operation);
        if (build is null)
        {
            await FailAsync(operation, FailureCause.BuildMissing, $"{Verb(operation)} failed: build #{operation.BuildName} of job '{JobOf(operation)}' disappeared from Concourse");
            return false;
        }
        if (build.IsRunning)
        {
            operation.Description = BuildDescription(operation, build.Status);
            RefreshViews();
            return false;
        }
        if (!build.Succeeded)
        {
            await FailAsync(operation, FailureCause.BuildFailed, $"{Verb(operation)} failed: Concourse job '{JobOf(operation)}' build #{build.Name} {build.Status}. Build log: {operation.BuildUrl}");
            return false;
        }
        if (operation.Kind == OperationKind.Delete)
        {
            operation.Step = OperationStep.DestroyPipeline;
            operation.Description = $"deleting cluster: deployment deleted (build #{build.Name}), destroying pipeline {S.Pipeline.Name}";
            await PersistAsync();
            return true;
        }
        await CompleteAsync(operation, operation.Kind == OperationKind.Create
            ? $"cluster created: Concourse job '{JobOf(operation)}' build #{build.Name} succeeded ({operation.BuildUrl})"
            : $"cluster updated: Concourse job '{JobOf(operation)}' build #{build.Name} succeeded ({operation.BuildUrl})");
        return false;
    }

    private async Task AbortRunningDeploysAsync(ClusterOperation operation, CancellationToken cancellationToken)
    {
        var service = catalog.FindService(S.Spec!.ServiceId)!;
        foreach (var build in await concourse.GetJobBuildsAsync(S.Pipeline.Name, service.Pipeline.DeployJob, 5, cancellationToken))
        {
            if (build.IsRunning) await concourse.AbortBuildAsync(build.Id, cancellationToken);
        }
        EnsureCurrent(operation);
        operation.Step = OperationStep.Unpause;
        operation.Description = "deleting cluster: running deployment aborted, starting the delete job";
        RefreshViews();
    }

    private async Task StoreCredentialsAsync(ClusterOperation operation, CancellationToken cancellationToken)
    {
        var prefix = CredentialPrefix;
        await credentialStore.SetAsync($"{prefix}/admin_username", S.AdminUsername!, cancellationToken);
        EnsureCurrent(operation);
        await credentialStore.SetAsync($"{prefix}/admin_password", secrets.Unprotect(S.AdminPasswordProtected!), cancellationToken);
        EnsureCurrent(operation);
        operation.Step = OperationStep.SetPipeline;
        RefreshViews();
    }

    private async Task ForgetCredentialsAsync(CancellationToken cancellationToken)
    {
        if (!credentialStore.Enabled) return;
        await credentialStore.DeleteAsync($"{CredentialPrefix}/admin_username", cancellationToken);
        await credentialStore.DeleteAsync($"{CredentialPrefix}/admin_password", cancellationToken);
    }

    /// <summary>Where Concourse looks up this pipeline's ((vars)): /concourse/TEAM/PIPELINE/VAR.</summary>
    private string CredentialPrefix => $"/concourse/{concourseOptions.Value.Team}/{S.Pipeline.Name}";

    private string JobOf(ClusterOperation operation)
    {
        var service = catalog.FindService(S.Spec!.ServiceId)!;
        return operation.Kind == OperationKind.Delete ? service.Pipeline.DeleteJob : service.Pipeline.DeployJob;
    }

    private string BuildDescription(ClusterOperation operation, string status) => status == "pending"
        ? $"{Verb(operation)}: Concourse job '{JobOf(operation)}' build #{operation.BuildName} is waiting to start ({operation.BuildUrl})"
        : $"{Verb(operation)}: Concourse job '{JobOf(operation)}' build #{operation.BuildName} is running ({operation.BuildUrl})";

    private static string Verb(ClusterOperation operation) => operation.Kind switch
    {
        OperationKind.Create => "creating cluster",
        OperationKind.Update => "updating cluster",
        _ => "deleting cluster",
    };

    private static string StepVerb(OperationStep step) => step switch
    {
        OperationStep.StoreCredentials => "store the credentials of",
        OperationStep.SetPipeline => "set",
        OperationStep.Unpause => "unpause",
        OperationStep.Trigger => "trigger a job of",
        OperationStep.AwaitBuild => "report a build of",
        OperationStep.AbortBuild => "abort a build of",
        OperationStep.DestroyPipeline => "destroy",
        _ => "act on",
    };
}
