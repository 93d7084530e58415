using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OnDemand.Grains.Fleet;
using OnDemand.Grains.Interfaces.Fleet;
using OnDemand.Grains.Telemetry;

namespace OnDemand.Grains.Cluster;

/// <summary>
/// The cluster's place in the cluster quotas (docs/fleet.md, "Quotas"): before a create is recorded it claims a slot
/// in the quota grain of its plan and of its org, only for the quotas configured (none: no call, no write); it frees
/// them once deleted. A plan change moves its slot to the target plan's grain from its acceptance.
/// </summary>
public sealed partial class ClusterGrain
{
    private QuotaOptions Quotas => ServiceProvider.GetRequiredService<IOptions<QuotaOptions>>().Value;

    /// <summary>In memory: a claim made whose intent is not recorded yet; it counts (GetQuotaScope) so that a quota
    /// grain re-checking its claims meanwhile keeps it. Lost with the activation, as the claim should be.</summary>
    private ClusterQuotaScope? _claiming;

    public Task<ClusterQuotaScope?> GetQuotaScope()
    {
        if (_claiming is { } claiming) return Task.FromResult<ClusterQuotaScope?>(claiming);
        if (!FleetReader.IsListed(S.Status) || S.Spec is null || S.Context is null) return Task.FromResult<ClusterQuotaScope?>(null);
        var planId = S.Operation is { IsRunning: true, Target: { } target } ? target.PlanId : S.Spec.PlanId;
        return Task.FromResult<ClusterQuotaScope?>(new ClusterQuotaScope(planId, S.Context.OrganizationGuid));
    }

    private IPlanQuotaGrain PlanQuota(string planId) => GrainFactory.GetGrain<IPlanQuotaGrain>(planId);
    private IOrgQuotaGrain OrgQuota(string? organizationGuid) => GrainFactory.GetGrain<IOrgQuotaGrain>(QuotaDecisions.OrgKey(organizationGuid));

    /// <returns>null when claimed (or no quota applies); otherwise the quota refusal for the user.</returns>
    private async Task<string?> ClaimFleetSlotAsync(ProvisionRequest request, ServicePlan plan)
    {
        var (planQuota, orgQuota) = QuotaDecisions.Applies(plan, Quotas);
        if (!planQuota && !orgQuota) return null;
        _claiming = new ClusterQuotaScope(plan.Id, request.Context.OrganizationGuid);
        if (planQuota && await PlanQuota(plan.Id).Claim(InstanceId, plan.Name, enforce: true) is { } planRefusal) return Refused(planRefusal);
        if (orgQuota && await OrgQuota(request.Context.OrganizationGuid).Claim(InstanceId, plan.Name, enforce: true) is { } orgRefusal)
        {
            if (planQuota) await ReleaseQuietlyAsync(PlanQuota(plan.Id));
            return Refused(orgRefusal);
        }
        return null;

        string Refused(string refusal)
        {
            _claiming = null;
            return refusal;
        }
    }

    /// <summary>The claim's intent is recorded (or refused): the state says what the cluster counts for.</summary>
    private void ClaimRecorded() => _claiming = null;

    /// <summary>Best effort: a quota grain that cannot be reached keeps the slot until it re-checks its claims.</summary>
    private async Task ReleaseFleetSlotAsync()
    {
        if (S.Spec is null || catalog.FindPlan(S.Spec.ServiceId, S.Spec.PlanId) is not var (_, plan)) return;
        var (planQuota, orgQuota) = QuotaDecisions.Applies(plan, Quotas);
        if (planQuota) await ReleaseQuietlyAsync(PlanQuota(plan.Id));
        if (orgQuota) await ReleaseQuietlyAsync(OrgQuota(S.Context?.OrganizationGuid));
    }

    private async Task ReleaseQuietlyAsync(IClusterQuotaGrain quota)
    {
        try
        {
            await quota.Release(InstanceId);
        }
        catch (Exception e)
        {
            logger.LogWarning("Cluster {InstanceId}: could not free its quota slot in {Quota}: {Error}", InstanceId, quota.GetPrimaryKeyString(), e.Message);
        }
    }

    /// <summary>A plan change counts for the target plan from its acceptance (a slot is held while it runs).</summary>
    private async Task<string?> MoveFleetSlotAsync(string fromPlanId, ServicePlan to, bool enforce)
    {
        var toQuota = Quotas.ClustersPerPlanLimit(to.Id, to.Name) is not null;
        var fromQuota = catalog.FindPlan(S.Spec?.ServiceId, fromPlanId) is var (_, from) && Quotas.ClustersPerPlanLimit(from.Id, from.Name) is not null;
        if (toQuota)
        {
            if (enforce) _claiming = new ClusterQuotaScope(to.Id, S.Context!.OrganizationGuid);
            if (await PlanQuota(to.Id).Claim(InstanceId, to.Name, enforce) is { } refusal)
            {
                _claiming = null;
                return refusal;
            }
        }
        if (fromQuota) await ReleaseQuietlyAsync(PlanQuota(fromPlanId));
        return null;
    }

    /// <summary>A failed plan change: the cluster still has its old plan, and counts for it again (best effort).</summary>
    private async Task MoveFleetSlotBackAsync(string targetPlanId)
    {
        if (catalog.FindPlan(S.Spec?.ServiceId, S.Spec?.PlanId) is not var (_, plan)) return;
        try
        {
            await MoveFleetSlotAsync(targetPlanId, plan, enforce: false);
        }
        catch (Exception e)
        {
            logger.LogWarning("Cluster {InstanceId}: could not move its quota slot back to plan {Plan}: {Error}", InstanceId, plan.Name, e.Message);
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

    private void RecordFinished(ClusterOperation operation, FailureCause? failure)
    {
        var duration = (operation.CompletedAt ?? time.GetUtcNow()) - operation.StartedAt;
        if (failure is null) BrokerMetrics.OperationSucceeded(InstanceId, operation.Kind, PlanLabel, duration);
        else BrokerMetrics.OperationFailed(InstanceId, operation.Kind, PlanLabel, failure.Value, duration);
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
