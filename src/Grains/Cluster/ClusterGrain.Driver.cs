using System.Text.Json.Nodes;
using OnDemand.Grains.Concourse;
using OnDemand.Grains.Credentials;
using OnDemand.Grains.Operations;
using OnDemand.Grains.Pipelines;
using OnDemand.Grains.Telemetry;

namespace OnDemand.Grains.Cluster;

/// <summary>
/// The operation driver: a recorded operation is driven from a grain timer while the grain is active and a reminder
/// that brings it back after deactivation or the loss of a silo; transient failures back off, the deadline fails
/// it, and it completes or fails with its views refreshed. The tick interleaves with requests at its awaits
/// (docs/crash-consistency.md, rules 3, 4 and 11). What each step does is in ClusterGrain.Steps.cs.
/// </summary>
public sealed partial class ClusterGrain
{
    private OperationDriver? _driver;

    /// <summary>Timer, reminder, write lock and the operation's lifecycle (shared with the database grain). The tick interleaves with
    /// requests at its awaits, so no request waits behind a slow Concourse; after every external call a step checks
    /// that its operation is still the current one (EnsureCurrent).</summary>
    private OperationDriver Driver => _driver ??=
        new OperationDriver(this, "cluster-operation", _options, time, TickAsync, interleave: true, onWriteFailure: DeactivateOnIdle);

    private OperationLifecycle Lifecycle => Driver.Lifecycle;

    private bool NeedsDriving => S.Operation is { IsRunning: true } || S.PendingAlerts.Count > 0 || NameIndexBehind;

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != Driver.ReminderName) return Task.CompletedTask;
        if (NeedsDriving)
        {
            StartTimer(TimeSpan.Zero);
            return Task.CompletedTask;
        }
        return StopDrivingAsync();
    }

    /// <summary>
    /// Called right after an operation was recorded: the timer, the reminder, then the name index; whatever fails
    /// after the timer started is finished by the first tick rather than left undone.
    /// </summary>
    private async Task StartDrivingAsync()
    {
        await Driver.StartAsync();
        await SyncNameIndexAsync();
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

    private void StartTimer(TimeSpan dueTime) => Driver.StartTimer(dueTime);

    private Task StopDrivingAsync() => Driver.StopAsync();

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        if (S.PendingAlerts.Count > 0) await DeliverAlertsAsync(cancellationToken);
        if (NameIndexBehind) await TrySyncNameIndexAsync();
        var operation = S.Operation;
        if (operation is { IsRunning: true } && !Driver.ReminderRegistered) await Driver.EnsureReminderAsync();
        if (operation is not { IsRunning: true })
        {
            if (!NeedsDriving) await StopDrivingAsync();
            return;
        }

        switch (Lifecycle.Due(operation))
        {
            case TickDue.NotYet:
                return;
            case TickDue.PastDeadline:
                await FailAsync(operation, FailureCause.Deadline, OperationLifecycle.TimedOut(operation, Verb(operation)));
                return;
        }

        try
        {
            using var trace = TraceStep(operation);
            await AdvanceAsync(operation, cancellationToken);
            OperationLifecycle.Progressed(operation);
        }
        catch (OperationSupersededException)
        {
            // A request replaced the operation while this tick waited on Concourse: the new one is driven next tick.
        }
        catch (Exception e) when (e is ConcourseUnavailableException or CredentialStoreException { Transient: true } && !Superseded(operation))
        {
            var delay = Lifecycle.RetryLater(operation, failed: true);
            var what = e is CredentialStoreException ? "credential manager (CredHub)" : "Concourse";
            RecordExternalError(e, "unavailable");
            operation.Description = $"{Verb(operation)}: {what} unreachable, retrying ({e.Message})";
            logger.LogWarning("Cluster {InstanceId} {Operation} step {Step}: {What} unreachable (attempt {Attempt}), next try in {Delay}: {Error}",
                InstanceId, operation.Id, operation.Step, what, operation.Attempts, delay, e.Message);
            await PersistAsync();
        }
        catch (ConcourseRejectedException e) when (!Superseded(operation))
        {
            RecordExternalError(e, "rejected");
            await FailAsync(operation, FailureCause.ConcourseRejected, $"{Verb(operation)} failed: Concourse refused to {StepVerb(operation.Step)} pipeline {S.Pipeline.Name}: {e.Message}");
        }
        catch (CredentialStoreException e) when (!Superseded(operation))
        {
            RecordExternalError(e, "rejected");
            await FailAsync(operation, FailureCause.Credhub, $"{Verb(operation)} failed: the credential manager refused the cluster's credentials: {e.Message}");
        }
    }

    private async Task CompleteAsync(ClusterOperation operation, string description)
    {
        Lifecycle.Finish(operation, LastOperationState.Succeeded, description);
        operation.Step = OperationStep.Done;
        if (operation.Target is { } target) S.Spec = target;
        S.Status = operation.Kind == OperationKind.Delete ? ClusterStatus.Deleted : ClusterStatus.Ready;
        S.FailedOperation = null;
        Remember(operation);
        await PersistAsync();
        RecordFinished(operation, failure: null);
        if (operation.Kind == OperationKind.Delete) await ReleaseFleetSlotAsync();
        await TrySyncNameIndexAsync();
        logger.LogInformation("Cluster {InstanceId} {Kind} {Operation} succeeded: {Description}", InstanceId, operation.Kind, operation.Id, description);
        if (!NeedsDriving) await StopDrivingAsync();
    }

    private async Task FailAsync(ClusterOperation operation, FailureCause cause, string description)
    {
        Lifecycle.Finish(operation, LastOperationState.Failed, description);
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
        RecordFinished(operation, cause);
        if (operation.Target is { } target && target.PlanId != S.Spec?.PlanId) await MoveFleetSlotBackAsync(target.PlanId);
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

    private ClusterOperation NewOperation(OperationKind kind, ServicePlan? plan, OperationStep firstStep, string? requestedBy, string description) =>
        RecordStarted(Lifecycle.Begin(new ClusterOperation { Step = firstStep, RequestedBy = requestedBy }, kind, plan, description), plan);

    private async Task PersistAsync()
    {
        await Driver.WriteAsync(state.WriteStateAsync);
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
}
