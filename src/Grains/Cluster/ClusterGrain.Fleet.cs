using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OnDemand.Grains.Fleet;
using OnDemand.Grains.Interfaces.Fleet;
using OnDemand.Grains.Telemetry;

namespace OnDemand.Grains.Cluster;

/// <summary>
/// The cluster's place in the fleet: it claims a slot in the fleet registry (which enforces the cluster quotas, one
/// call at a time) before a create is recorded, and frees it once the cluster is deleted.
/// </summary>
public sealed partial class ClusterGrain
{
    private IFleetRegistryGrain Fleet => GrainFactory.GetGrain<IFleetRegistryGrain>(0);

    private QuotaOptions Quotas => ServiceProvider.GetRequiredService<IOptions<QuotaOptions>>().Value;

    /// <returns>null when claimed; otherwise the quota refusal for the user.</returns>
    private Task<string?> ClaimFleetSlotAsync(ProvisionRequest request, ServicePlan plan) =>
        Fleet.ClaimCluster(new ClusterClaim(InstanceId, request.ServiceId, plan.Id, plan.Name, request.Context.OrganizationGuid));

    /// <summary>Best effort: a registry that cannot be reached keeps the slot (an operator sees it in the fleet listing).</summary>
    private async Task ReleaseFleetSlotAsync()
    {
        try
        {
            await Fleet.ReleaseCluster(InstanceId);
        }
        catch (Exception e)
        {
            logger.LogWarning("Cluster {InstanceId}: could not free its fleet slot: {Error}", InstanceId, e.Message);
        }
    }

    /// <summary>A plan change counts for the target plan from its acceptance (a slot is held while it runs).</summary>
    private Task<string?> MoveFleetSlotAsync(ServicePlan plan, bool enforce) =>
        Fleet.MoveCluster(new ClusterClaim(InstanceId, S.Spec!.ServiceId, plan.Id, plan.Name, S.Context!.OrganizationGuid), enforce);

    /// <summary>A failed plan change: the cluster still has its old plan, and counts for it again (best effort).</summary>
    private async Task MoveFleetSlotBackAsync()
    {
        if (catalog.FindPlan(S.Spec?.ServiceId, S.Spec?.PlanId) is not var (_, plan)) return;
        try
        {
            await MoveFleetSlotAsync(plan, enforce: false);
        }
        catch (Exception e)
        {
            logger.LogWarning("Cluster {InstanceId}: could not move its fleet slot back to plan {Plan}: {Error}", InstanceId, plan.Name, e.Message);
        }
    }

    private string? DatabaseQuotaRefusal(ChildDatabaseRequest request) =>
        QuotaDecisions.DatabaseRefusal(S.Children.Count, S.Children.Exists(c => c.InstanceId == request.DatabaseId), DisplayName, Quotas);
}

/// <summary>The cluster's operations in the domain metrics (Telemetry/BrokerMetrics).</summary>
public sealed partial class ClusterGrain
{
    private string PlanLabel => catalog.FindPlan(S.Spec?.ServiceId, S.Spec?.PlanId)?.Plan.Name ?? "unknown";

    /// <returns>the operation, counted as started.</returns>
    private ClusterOperation RecordStarted(ClusterOperation operation, ServicePlan? plan)
    {
        BrokerMetrics.OperationStarted(InstanceId, operation.Kind, plan?.Name ?? PlanLabel, operation.Deadline);
        operation.TraceParent ??= System.Diagnostics.Activity.Current?.Id;
        return operation;
    }

    private void RecordResumed()
    {
        if (S.Operation is { IsRunning: true } running) BrokerMetrics.OperationResumed(InstanceId, running.Kind, PlanLabel, running.Deadline);
    }

    private void RecordFinished(ClusterOperation operation, string? failure)
    {
        var duration = (operation.CompletedAt ?? time.GetUtcNow()) - operation.StartedAt;
        if (failure is null) BrokerMetrics.OperationSucceeded(InstanceId, operation.Kind, PlanLabel, duration);
        else BrokerMetrics.OperationFailed(InstanceId, operation.Kind, PlanLabel, failure, duration);
    }

    /// <summary>A span for one step of the operation, child of the request that started it (even ticks later, on another silo).</summary>
    private System.Diagnostics.Activity? TraceStep(ClusterOperation operation)
    {
        var activity = BrokerMetrics.Tracing.StartActivity($"cluster {operation.Kind.ToString().ToLowerInvariant()} {operation.Step}",
            System.Diagnostics.ActivityKind.Internal, operation.TraceParent);
        activity?.SetTag("ondemand.instance_id", InstanceId);
        activity?.SetTag("ondemand.operation_id", operation.Id);
        return activity;
    }

    private static void RecordExternalError(Exception e, string kind) =>
        BrokerMetrics.ExternalError(e is Credentials.CredentialStoreException ? "credhub" : "concourse", kind);
}
