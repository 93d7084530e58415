using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OnDemand.Grains.Cluster;
using OnDemand.Grains.Interfaces.Fleet;
using OnDemand.Grains.Operations;

namespace OnDemand.Grains.Fleet;

/// <summary>
/// Upgrade-all: re-runs every cluster whose template version is behind the catalog's, canaries first, at most
/// Parallelism at a time, through the cluster's own update (maintenance_info), so a busy cluster answers
/// ConcurrencyError and is asked again later, never interrupted. Every step is persisted before the next; the run is
/// driven by a timer and a reminder (OperationDriver), so it goes on after a silo crash. Rules in UpgradeDecisions.
/// </summary>
public sealed class UpgradeRunGrain(
    [PersistentState("upgrade-run", "store")] IPersistentState<UpgradeRunState> state,
    BrokerCatalog catalog,
    IOptions<UpgradeOptions> upgradeOptions,
    IOptions<ClusterLifecycleOptions> lifecycle,
    TimeProvider time,
    ILogger<UpgradeRunGrain> logger) : Grain, IUpgradeRunGrain, IRemindable
{
    private OperationDriver? _driver;
    private UpgradeRunState S => state.State;
    private bool Active => S.Status is UpgradeRunStatus.Running or UpgradeRunStatus.Paused || (S.Status is UpgradeRunStatus.Cancelled or UpgradeRunStatus.Stopped && S.FinishedAt is null);

    private OperationDriver Driver => _driver ??= new OperationDriver(this, "upgrade-run",
        new ClusterLifecycleOptions { PollInterval = upgradeOptions.Value.TickInterval, ReminderPeriod = lifecycle.Value.ReminderPeriod, MaxRetryDelay = lifecycle.Value.MaxRetryDelay }, time,
        TickAsync, interleave: false, onWriteFailure: DeactivateOnIdle);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (Active) Driver.StartTimer(TimeSpan.Zero);
        return Task.CompletedTask;
    }

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (Active) Driver.StartTimer(TimeSpan.Zero);
        else return Driver.StopAsync();
        return Task.CompletedTask;
    }

    public async Task<UpgradeCommandResult> Start(UpgradeRequest request)
    {
        if (Active) return Refuse($"upgrade run {S.RunId} is {S.Status.ToString().ToLowerInvariant()}: cancel it or wait until it ends");
        var fleet = await FleetReader.ReadAsync(GrainFactory);
        var items = new List<UpgradeItem>();
        var contexts = new Dictionary<string, InstanceContext>();
        foreach (var (claim, view) in fleet.OrderBy(f => f.Claim.InstanceId, StringComparer.Ordinal))
        {
            if (view is null || catalog.FindPlan(view.ServiceId, view.PlanId) is not var (_, plan)) continue;
            if (!UpgradeDecisions.IsBehind(view, plan.MaintenanceInfoVersion)) continue;
            contexts[claim.InstanceId] = view.Context;
            items.Add(new UpgradeItem
            {
                InstanceId = claim.InstanceId,
                ServiceId = view.ServiceId,
                PlanName = plan.Name,
                FromVersion = view.MaintenanceInfoVersion,
                ToVersion = plan.MaintenanceInfoVersion,
            });
        }
        if (UpgradeDecisions.ChooseCanaries(items, contexts, request.Canaries, request.CanaryOrg) is { } refusal) return Refuse(refusal);

        var now = time.GetUtcNow();
        state.State = new UpgradeRunState
        {
            RunId = $"upgrade-{now:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}",
            Status = items.Count == 0 ? UpgradeRunStatus.Completed : UpgradeRunStatus.Running,
            Reason = items.Count == 0 ? "every cluster already runs the catalog's template version" : null,
            StartedAt = now,
            FinishedAt = items.Count == 0 ? now : null,
            Parallelism = request.Parallelism,
            RequestedBy = request.RequestedBy,
            Items = items,
        };
        await WriteAsync();
        logger.LogInformation("Upgrade run {RunId} started by {By}: {Count} clusters behind, {Canaries} canaries, parallelism {Parallelism}",
            S.RunId, request.RequestedBy, items.Count, items.Count(i => i.Canary), request.Parallelism);
        if (Active) await Driver.StartAsync();
        return Ok();
    }

    public Task<UpgradeCommandResult> Pause(string? by) => ChangeAsync(UpgradeRunStatus.Running, UpgradeRunStatus.Paused, by);

    public Task<UpgradeCommandResult> Resume(string? by) => ChangeAsync(UpgradeRunStatus.Paused, UpgradeRunStatus.Running, by);

    public async Task<UpgradeCommandResult> Cancel(string? by)
    {
        if (S.Status is not (UpgradeRunStatus.Running or UpgradeRunStatus.Paused)) return Refuse(NotRunning());
        S.Status = UpgradeRunStatus.Cancelled;
        S.Reason = $"cancelled by {by}; upgrades already running finish, the others do not start";
        await WriteAsync();
        Driver.StartTimer(TimeSpan.Zero);
        return Ok();
    }

    public Task<UpgradeReport> GetReport() => Task.FromResult(UpgradeDecisions.Report(S));

    private async Task<UpgradeCommandResult> ChangeAsync(UpgradeRunStatus from, UpgradeRunStatus to, string? by)
    {
        if (S.Status != from) return Refuse(S.Status == to ? $"upgrade run {S.RunId} is already {to.ToString().ToLowerInvariant()}" : NotRunning());
        S.Status = to;
        S.Reason = $"{to.ToString().ToLowerInvariant()} by {by}";
        await WriteAsync();
        Driver.StartTimer(TimeSpan.Zero);
        return Ok();
    }

    private string NotRunning() => S.RunId is null ? "no upgrade run has been started" : $"upgrade run {S.RunId} is {S.Status.ToString().ToLowerInvariant()}";

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        if (!Driver.ReminderRegistered && Active) await Driver.EnsureReminderAsync();
        if (!Active)
        {
            await Driver.StopAsync();
            return;
        }
        var changed = await PollRunningAsync();
        if (S.Status is UpgradeRunStatus.Running or UpgradeRunStatus.Paused && UpgradeDecisions.FailedCanary(S.Items) is { } canary)
        {
            S.Status = UpgradeRunStatus.Stopped;
            S.Reason = $"stopped: canary {canary.InstanceId} failed ({canary.Note}); fix the cause and start a new run";
            changed = true;
            logger.LogWarning("Upgrade run {RunId} stopped at canary {InstanceId}: {Note}", S.RunId, canary.InstanceId, canary.Note);
        }
        if (S.Status == UpgradeRunStatus.Running)
            changed |= await StartNextAsync(UpgradeDecisions.ToStart(S.Items, S.Parallelism, time.GetUtcNow()));
        if (UpgradeDecisions.IsOver(S.Status, S.Items))
        {
            if (S.Status == UpgradeRunStatus.Running)
            {
                S.Status = UpgradeRunStatus.Completed;
                var failed = S.Items.Count(i => i.Phase == UpgradeItemPhase.Failed);
                S.Reason = failed == 0 ? "every cluster upgraded" : $"{failed} cluster upgrades failed";
            }
            S.FinishedAt = time.GetUtcNow();
            changed = true;
            logger.LogInformation("Upgrade run {RunId} ended {Status}: {Reason}", S.RunId, S.Status, S.Reason);
        }
        if (changed) await WriteAsync();
        if (!Active) await Driver.StopAsync();
    }

    private async Task<bool> PollRunningAsync()
    {
        var running = S.Items.Where(i => i.Phase == UpgradeItemPhase.Running).ToList();
        var views = await Task.WhenAll(running.Select(i => GrainFactory.GetGrain<IClusterGrain>(i.InstanceId).GetLastOperation(i.OperationId)));
        var changed = false;
        for (var n = 0; n < running.Count; n++)
        {
            var (item, view) = (running[n], views[n]);
            (item.Phase, item.Note) = !view.Found
                ? (UpgradeItemPhase.Skipped, "the instance no longer exists")
                : view.State switch
                {
                    LastOperationState.Succeeded => (UpgradeItemPhase.Done, $"upgraded to {item.ToVersion}"),
                    LastOperationState.Failed => (UpgradeItemPhase.Failed, view.Description),
                    _ => (UpgradeItemPhase.Running, view.Description),
                };
            changed |= item.Phase != UpgradeItemPhase.Running;
        }
        return changed;
    }

    private async Task<bool> StartNextAsync(List<UpgradeItem> items)
    {
        if (items.Count == 0) return false;
        var now = time.GetUtcNow();
        var results = await Task.WhenAll(items.Select(i => GrainFactory.GetGrain<IClusterGrain>(i.InstanceId)
            .Update(new UpdateRequest(i.ServiceId, null, null, i.ToVersion, null, $"operator:{S.RequestedBy}:{S.RunId}"))));
        for (var n = 0; n < items.Count; n++)
        {
            var (item, result) = (items[n], results[n]);
            item.Attempts++;
            switch (result.Outcome)
            {
                case OperationOutcome.Accepted or OperationOutcome.InProgress:
                    (item.Phase, item.OperationId, item.Note) = (UpgradeItemPhase.Running, result.Operation, "upgrading");
                    break;
                case OperationOutcome.Completed or OperationOutcome.AlreadyExists:
                    (item.Phase, item.Note) = (UpgradeItemPhase.Done, $"already at {item.ToVersion}");
                    break;
                case OperationOutcome.ConcurrencyError:
                    (item.NextAttemptAt, item.Note) = (now + upgradeOptions.Value.BusyRetryDelay, $"busy, retried later: {result.Description}");
                    break;
                case OperationOutcome.NotFound or OperationOutcome.Gone:
                    (item.Phase, item.Note) = (UpgradeItemPhase.Skipped, "the instance no longer exists");
                    break;
                default:
                    (item.Phase, item.Note) = (UpgradeItemPhase.Failed, result.Description ?? result.Outcome.ToString());
                    break;
            }
        }
        return true;
    }

    private async Task WriteAsync()
    {
        await Driver.WriteAsync(state.WriteStateAsync);
        Telemetry.BrokerMetrics.SetUpgrade(UpgradeDecisions.Report(S));
    }

    private UpgradeCommandResult Ok() => new(true, null, UpgradeDecisions.Report(S));

    private UpgradeCommandResult Refuse(string reason) => new(false, reason, UpgradeDecisions.Report(S));
}
