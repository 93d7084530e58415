using System.Text.Json.Nodes;
using Microsoft.Extensions.Logging;
using OnDemand.Grains.Concourse;
using OnDemand.Grains.Credentials;
using OnDemand.Grains.Pipelines;

namespace OnDemand.Grains.Cluster;

/// <summary>
/// Drives the recorded operation through Concourse, one step at a time, from a grain timer while the grain is active
/// and a reminder that brings it back after deactivation or the loss of a silo. Each step is persisted before its
/// side effect and is idempotent or checks Concourse first, so a step may run twice but its effect happens once.
/// </summary>
public sealed partial class ClusterGrain
{
    private const string ReminderName = "cluster-operation";
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private IGrainTimer? _timer;

    private bool NeedsDriving => S.Operation is { IsRunning: true } || S.PendingAlerts.Count > 0 || NameIndexBehind;
    private bool _reminderRegistered;

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != ReminderName) return Task.CompletedTask;
        if (NeedsDriving)
        {
            StartTimer(TimeSpan.Zero);
            return Task.CompletedTask;
        }
        return StopDrivingAsync();
    }

    /// <summary>
    /// Called right after an operation was recorded. The timer starts first (it cannot fail), so whatever fails
    /// after it (the reminder, the name index) is finished by the first tick rather than left undone: recording the
    /// intent is the one step that must succeed, and everything after it is recoverable.
    /// </summary>
    private async Task StartDrivingAsync()
    {
        StartTimer(TimeSpan.Zero);
        await EnsureReminderAsync();
        await SyncNameIndexAsync();
    }

    private async Task EnsureReminderAsync()
    {
        if (_reminderRegistered || S.Operation is not { IsRunning: true }) return;
        // The reminder is the durable wake-up: it survives deactivation and silo loss; the timer does the fast polling.
        await this.RegisterOrUpdateReminder(ReminderName, _options.ReminderPeriod, _options.ReminderPeriod);
        _reminderRegistered = true;
    }

    private async Task TrySyncNameIndexAsync()
    {
        try
        {
            await SyncNameIndexAsync();
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Cluster {InstanceId}: name index not updated yet, will retry: {Error}", InstanceId, e.Message);
            StartTimer(_options.PollInterval);
        }
    }

    private void StartTimer(TimeSpan dueTime)
    {
        if (_timer is not null) return;
        _timer = this.RegisterGrainTimer(TickAsync, new GrainTimerCreationOptions
        {
            DueTime = dueTime,
            Period = _options.PollInterval,
            // The tick interleaves with requests at its awaits, so a PUT, PATCH, DELETE or a database's call never
            // waits behind a slow Concourse (docs/crash-consistency.md, rule 11). After every external call the
            // tick checks that its operation is still the current one (EnsureCurrent), and writes are serialized.
            Interleave = true,
            KeepAlive = true,
        });
    }

    private async Task StopDrivingAsync()
    {
        _timer?.Dispose();
        _timer = null;
        _reminderRegistered = false;
        if (await this.GetReminder(ReminderName) is { } reminder) await this.UnregisterReminder(reminder);
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        if (S.PendingAlerts.Count > 0) await DeliverAlertsAsync(cancellationToken);
        if (NameIndexBehind) await TrySyncNameIndexAsync();
        var operation = S.Operation;
        if (operation is { IsRunning: true } && !_reminderRegistered) await EnsureReminderAsync();
        if (operation is not { IsRunning: true })
        {
            if (!NeedsDriving) await StopDrivingAsync();
            return;
        }

        var now = time.GetUtcNow();
        if (now < operation.NextAttemptAt) return;
        if (now > operation.Deadline)
        {
            await FailAsync(operation, $"{Verb(operation)} timed out after {FormatDuration(operation.Deadline - operation.StartedAt)} (last status: {operation.Description})");
            return;
        }

        try
        {
            await AdvanceAsync(operation, cancellationToken);
            operation.Attempts = 0;
        }
        catch (OperationSupersededException)
        {
            // A request replaced the operation while this tick waited on Concourse: the new one is driven next tick.
        }
        catch (Exception e) when (e is ConcourseUnavailableException or CredentialStoreException { Transient: true } && !Superseded(operation))
        {
            operation.Attempts++;
            var delay = TimeSpan.FromTicks(Math.Min(_options.MaxRetryDelay.Ticks, _options.PollInterval.Ticks << Math.Min(operation.Attempts, 16)));
            operation.NextAttemptAt = now + delay;
            var what = e is CredentialStoreException ? "credential manager (CredHub)" : "Concourse";
            operation.Description = $"{Verb(operation)}: {what} unreachable, retrying ({e.Message})";
            logger.LogWarning("Cluster {InstanceId} {Operation} step {Step}: {What} unreachable (attempt {Attempt}), next try in {Delay}: {Error}",
                InstanceId, operation.Id, operation.Step, what, operation.Attempts, delay, e.Message);
            await PersistAsync();
        }
        catch (ConcourseRejectedException e) when (!Superseded(operation))
        {
            await FailAsync(operation, $"{Verb(operation)} failed: Concourse refused to {StepVerb(operation.Step)} pipeline {S.Pipeline.Name}: {e.Message}");
        }
        catch (CredentialStoreException e) when (!Superseded(operation))
        {
            await FailAsync(operation, $"{Verb(operation)} failed: the credential manager refused the cluster's credentials: {e.Message}");
        }
    }

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
            await FailAsync(operation, $"{Verb(operation)} failed: {error}");
            return false;
        }

        var pipeline = S.Pipeline;
        var current = await concourse.GetPipelineConfigAsync(pipeline.Name, cancellationToken);
        EnsureCurrent(operation);
        // Config versions come from a counter shared by all pipelines: only "different from ours" means anything.
        // While our own PUT may have landed unseen (ConfigPutSent), a newer version is presumed ours.
        if (current is not null && pipeline.ConfigVersion is { } known && current.Version != known && !operation.ConfigPutSent
            && !JsonNode.DeepEquals(JsonNode.Parse(current.ConfigJson), JsonNode.Parse(rendered!.ConfigJson)))
        {
            // Someone else changed the pipeline since the broker set it: report, never overwrite blindly. The
            // version is acknowledged so that the user's retry, once an operator has looked, goes through.
            pipeline.ConfigVersion = current.Version;
            await FailAsync(operation,
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
        var written = await concourse.GetPipelineConfigAsync(pipeline.Name, cancellationToken);
        EnsureCurrent(operation);
        pipeline.ConfigVersion = written?.Version;
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
            await FailAsync(operation, $"{Verb(operation)} failed: build #{operation.BuildName} of job '{JobOf(operation)}' disappeared from Concourse");
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
            await FailAsync(operation, $"{Verb(operation)} failed: Concourse job '{JobOf(operation)}' build #{build.Name} {build.Status}. Build log: {operation.BuildUrl}");
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

    private async Task CompleteAsync(ClusterOperation operation, string description)
    {
        operation.State = LastOperationState.Succeeded;
        operation.Step = OperationStep.Done;
        operation.Description = description;
        operation.CompletedAt = time.GetUtcNow();
        if (operation.Target is { } target) S.Spec = target;
        S.Status = operation.Kind == OperationKind.Delete ? ClusterStatus.Deleted : ClusterStatus.Ready;
        S.FailedOperation = null;
        Remember(operation);
        await PersistAsync();
        await TrySyncNameIndexAsync();
        logger.LogInformation("Cluster {InstanceId} {Kind} {Operation} succeeded: {Description}", InstanceId, operation.Kind, operation.Id, description);
        if (!NeedsDriving) await StopDrivingAsync();
    }

    private async Task FailAsync(ClusterOperation operation, string description)
    {
        operation.State = LastOperationState.Failed;
        operation.Description = description;
        operation.CompletedAt = time.GetUtcNow();
        S.Status = ClusterStatus.Failed;
        S.FailedOperation = operation.Kind;
        Remember(operation);
        if (alerts.Enabled)
        {
            var context = S.Context!;
            S.PendingAlerts.Add(new PendingAlert
            {
                OperationId = operation.Id,
                Text = $":red_circle: Cluster {context.InstanceName ?? InstanceId} ({InstanceId}) in org {context.OrganizationName ?? context.OrganizationGuid} / " +
                       $"space {context.SpaceName ?? context.SpaceGuid}: {operation.Kind.ToString().ToLowerInvariant()} operation {operation.Id} failed. {description}",
            });
        }
        await PersistAsync();
        logger.LogError("Cluster {InstanceId} {Kind} {Operation} failed at step {Step} (pipeline {Pipeline}, build {BuildUrl}): {Description}",
            InstanceId, operation.Kind, operation.Id, operation.Step, S.Pipeline.Name, operation.BuildUrl, description);
        if (!NeedsDriving) await StopDrivingAsync();
    }

    private async Task DeliverAlertsAsync(CancellationToken cancellationToken)
    {
        foreach (var alert in S.PendingAlerts.ToList())
        {
            try
            {
                await alerts.SendAsync(alert.Text, cancellationToken);
                S.PendingAlerts.Remove(alert);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                alert.Attempts++;
                logger.LogWarning("Cluster {InstanceId}: alert for {Operation} not delivered (attempt {Attempt}): {Error}", InstanceId, alert.OperationId, alert.Attempts, e.Message);
                if (alert.Attempts >= _options.AlertAttempts) S.PendingAlerts.Remove(alert);
            }
        }
        await PersistAsync();
    }

    private void Remember(ClusterOperation operation)
    {
        S.History.Add(operation.ToRecord());
        if (S.History.Count > _options.HistoryLength) S.History.RemoveRange(0, S.History.Count - _options.HistoryLength);
    }

    private ClusterOperation NewOperation(OperationKind kind, ServicePlan? plan, OperationStep firstStep, string? requestedBy, string description)
    {
        var now = time.GetUtcNow();
        return new ClusterOperation
        {
            Id = $"{kind.ToString().ToLowerInvariant()}-{Guid.NewGuid():N}",
            Kind = kind,
            Step = firstStep,
            State = LastOperationState.InProgress,
            Description = description,
            StartedAt = now,
            Deadline = now + TimeSpan.FromSeconds(plan?.MaximumPollingDuration ?? 7200),
            NextAttemptAt = now,
            RequestedBy = requestedBy,
        };
    }

    /// <summary>
    /// Writes the state; one write at a time (the timer tick interleaves with requests, and two overlapping writes of
    /// one grain's state would conflict).
    /// </summary>
    private async Task PersistAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            await state.WriteStateAsync();
        }
        catch
        {
            // Memory may now be ahead of storage: reload from storage on the next call rather than serve it.
            DeactivateOnIdle();
            throw;
        }
        finally
        {
            _writeLock.Release();
        }
        RefreshViews();
    }

    private bool Superseded(ClusterOperation operation) => !ReferenceEquals(S.Operation, operation) || !operation.IsRunning;

    /// <summary>Called after every external call of a step: a request may have replaced the operation meanwhile.</summary>
    private void EnsureCurrent(ClusterOperation operation)
    {
        if (Superseded(operation)) throw new OperationSupersededException();
    }

    private sealed class OperationSupersededException : Exception;

    /// <summary>Reads interleave with running work, so they are served from views built after each successful write.</summary>
    private void RefreshViews()
    {
        var operation = S.Operation;
        _lastOperation = S.Status == ClusterStatus.None || operation is null
            ? LastOperationView.Unknown
            : new LastOperationView(true, operation.State, operation.Description, S.Spec?.ServiceId, AcceptedPlanIds);
        _instanceView = S.Status switch
        {
            ClusterStatus.None or ClusterStatus.Creating or ClusterStatus.Deleted => new InstanceView(FetchOutcome.NotFound),
            ClusterStatus.Failed when S.FailedOperation == OperationKind.Create => new InstanceView(FetchOutcome.NotFound),
            ClusterStatus.Updating => new InstanceView(FetchOutcome.ConcurrencyError, Description: $"cluster {DisplayName} is being updated"),
            _ => new InstanceView(FetchOutcome.Found, S.Spec!.ServiceId, S.Spec.PlanId, S.Spec.ParametersJson, S.Spec.MaintenanceInfoVersion),
        };
    }

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

    private static string FormatDuration(TimeSpan duration) =>
        duration.TotalHours >= 1 ? $"{duration.TotalHours:0.#} hours" : duration.TotalMinutes >= 1 ? $"{duration.TotalMinutes:0} minutes" : $"{duration.TotalSeconds:0} seconds";
}
