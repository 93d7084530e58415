using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using OnDemand.Grains.Cluster;
using OnDemand.Grains.Credentials;
using OnDemand.Grains.Operations;
using OnDemand.Grains.Telemetry;

namespace OnDemand.Grains.Database;

/// <summary>
/// Drives the database's recorded operation: a timer while active and a reminder after a silo loss ask the cluster to
/// register, create or drop the database, with back-off while the cluster waits or is unreachable, and a deadline.
/// </summary>
public sealed partial class DatabaseGrain
{
    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (reminderName != Driver.ReminderName) return Task.CompletedTask;
        if (S.Operation is { IsRunning: true })
        {
            StartTimer();
            return Task.CompletedTask;
        }
        return StopDrivingAsync();
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        var operation = S.Operation;
        if (operation is not { IsRunning: true })
        {
            await StopDrivingAsync();
            return;
        }
        if (!Driver.ReminderRegistered) await Driver.EnsureReminderAsync();
        switch (Lifecycle.Due(operation))
        {
            case TickDue.NotYet:
                return;
            case TickDue.PastDeadline:
                var what = operation.Kind == OperationKind.Delete ? "deleting the database" : "creating the database";
                await FinishAsync(operation, LastOperationState.Failed, $"{OperationLifecycle.TimedOut(operation, what)}; try again or ask the platform operators", FailureCause.Deadline);
                return;
        }

        if (operation.Kind == OperationKind.Create && !S.Registered)
        {
            // Intent was recorded, but the registration's answer was lost (a crash, a timeout): register again.
            var registration = await Cluster.RegisterDatabase(RegistrationRequest());
            if (registration.Outcome != ChildStepOutcome.Done)
            {
                var gone = registration.Outcome == ChildStepOutcome.NotFound;
                await FinishAsync(operation, LastOperationState.Failed, gone
                    ? $"cluster '{S.ClusterName}' no longer exists in this space; delete this database and create it in an existing cluster"
                    : registration.Description, gone ? FailureCause.ClusterGone : FailureCause.Provisioning);
                return;
            }
            S.Registered = true;
        }
        var result = operation.Kind == OperationKind.Delete ? await Cluster.DeleteDatabase(InstanceId) : await Cluster.CreateDatabase(InstanceId);
        switch (result.Outcome)
        {
            case ChildStepOutcome.Done:
                await FinishAsync(operation, LastOperationState.Succeeded, result.Description, failure: null);
                break;
            case ChildStepOutcome.Waiting or ChildStepOutcome.Retry:
                Lifecycle.RetryLater(operation, failed: result.Outcome == ChildStepOutcome.Retry);
                if (operation.Description != result.Description)
                {
                    operation.Description = result.Description;
                    await PersistAsync();
                }
                break;
            default:
                await FinishAsync(operation, LastOperationState.Failed, result.Description, result.Outcome == ChildStepOutcome.NotFound ? FailureCause.ClusterGone : FailureCause.Provisioning);
                break;
        }
    }

    private async Task FinishAsync(DatabaseOperation operation, LastOperationState outcome, string description, FailureCause? failure)
    {
        Lifecycle.Finish(operation, outcome, description);
        if (outcome == LastOperationState.Succeeded)
        {
            S.Status = operation.Kind == OperationKind.Delete ? DatabaseStatus.Deleted : DatabaseStatus.Ready;
            S.FailedOperation = null;
            if (operation.Kind == OperationKind.Delete) S.Bindings.Clear();
        }
        else
        {
            S.Status = DatabaseStatus.Failed;
            S.FailedOperation = operation.Kind;
            logger.LogError("Database {InstanceId} {Kind} {Operation} failed (cluster {ClusterId}): {Description}", InstanceId, operation.Kind, operation.Id, S.ClusterId, description);
        }
        await PersistAsync();
        var duration = (operation.CompletedAt ?? time.GetUtcNow()) - operation.StartedAt;
        if (failure is { } cause) BrokerMetrics.OperationFailed(InstanceId, operation.Kind, PlanLabel, cause, duration, BrokerMetrics.Database);
        else BrokerMetrics.OperationSucceeded(InstanceId, operation.Kind, PlanLabel, duration, BrokerMetrics.Database);
        await StopDrivingAsync();
    }

    /// <summary>The database plan's name, the <c>plan</c> label of the domain metrics (Telemetry/BrokerMetrics).</summary>
    private string PlanLabel => catalog.FindPlan(S.Spec?.ServiceId, S.Spec?.PlanId)?.Plan.Name ?? "unknown";

    private OperationDriver? _driver;

    /// <summary>Timer, reminder, write lock and the operation's lifecycle, shared with the cluster grain. Ticks do not interleave: each
    /// is one short call to the cluster, which answers at once while it is busy.</summary>
    private OperationDriver Driver => _driver ??=
        new OperationDriver(this, "database-operation", _options, time, TickAsync, interleave: false, onWriteFailure: DeactivateOnIdle);

    private OperationLifecycle Lifecycle => Driver.Lifecycle;

    private Task StartDrivingAsync() => Driver.StartAsync();

    private void StartTimer() => Driver.StartTimer(TimeSpan.Zero);

    private Task StopDrivingAsync() => Driver.StopAsync();

    private DatabaseOperation NewOperation(OperationKind kind, ServicePlan? plan, string description)
    {
        var operation = Lifecycle.Begin(new DatabaseOperation(), kind, plan, description);
        BrokerMetrics.OperationStarted(InstanceId, kind, plan?.Name ?? PlanLabel, operation.Deadline, BrokerMetrics.Database);
        return operation;
    }

    private async Task PersistAsync()
    {
        await Driver.WriteAsync(state.WriteStateAsync);
        RefreshViews();
    }

    private void RefreshViews()
    {
        _lastOperation = S.Status == DatabaseStatus.None || S.Operation is null
            ? LastOperationView.Unknown
            : new LastOperationView(true, S.Operation.State, S.Operation.Description, S.Spec?.ServiceId, S.Spec is null ? null : [S.Spec.PlanId], IsDatabase: true);
        _instanceView = S.Status is DatabaseStatus.Ready or DatabaseStatus.Deleting || (S.Status == DatabaseStatus.Failed && S.FailedOperation != OperationKind.Create)
            ? new InstanceView(FetchOutcome.Found, S.Spec!.ServiceId, S.Spec.PlanId, S.Spec.ParametersJson, S.Spec.MaintenanceInfoVersion,
                DashboardInstanceId: S.ClusterId)
            : new InstanceView(FetchOutcome.NotFound);
    }
}
