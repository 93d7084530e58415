using System.Text.Json.Nodes;

namespace OnDemand.Grains.Cluster;

/// <summary>What an update request does to a cluster.</summary>
public abstract record UpdateDecision
{
    /// <summary>Answered at once: a refusal, an update already running, or a no-op.</summary>
    public sealed record Answer(OperationResult Result) : UpdateDecision;

    /// <summary>Nothing outside the broker changes: only the context (a rename) is recorded, synchronously.</summary>
    public sealed record Rename(InstanceContext Context) : UpdateDecision;

    /// <summary>The pipeline runs: the cluster becomes <paramref name="Target"/>.</summary>
    public sealed record Run(InstanceSpec Target, ServicePlan From, ServicePlan To, InstanceContext Context) : UpdateDecision;
}

/// <summary>What a delete request does to a cluster: an answer, or an operation starting at <paramref name="FirstStep"/>.</summary>
public sealed record DeleteDecision(OperationResult? Answer, OperationStep FirstStep = OperationStep.Done, string? FromPlanId = null);

/// <summary>
/// What an OSB request does to a cluster in a given state: pure functions of the state, the request and the catalog
/// (no I/O, no Orleans), unit-tested directly. <see cref="ClusterGrain"/> carries them out: it records the intent,
/// then drives the operation.
/// </summary>
public static class ClusterDecisions
{
    /// <returns>null when a new cluster is to be created; otherwise the answer (idempotent repeat or refusal).</returns>
    public static OperationResult? BeforeCreate(ClusterState s, string instanceId, ProvisionRequest request)
    {
        if (s.ReservedForDatabase)
            return OperationResult.Conflict($"service instance {instanceId} already exists as a database instance; an id names one instance only");
        return s.Status switch
        {
            ClusterStatus.None or ClusterStatus.Deleted => null,
            ClusterStatus.Creating => IsSameCreate(s, request) ? OperationResult.InProgress(s.Operation!.Id) : ConflictWithExisting(instanceId),
            ClusterStatus.Deleting => OperationResult.Conflict($"service instance {instanceId} is being deleted; wait for the deletion to finish"),
            ClusterStatus.Failed when s.FailedOperation == OperationKind.Create =>
                OperationResult.Conflict($"service instance {instanceId} exists but its creation failed; delete it and create it again"),
            _ => IsSameCreate(s, request) ? OperationResult.AlreadyExists : ConflictWithExisting(instanceId),
        };
    }

    public static UpdateDecision DecideUpdate(ClusterState s, string instanceId, UpdateRequest request, BrokerCatalog catalog)
    {
        if (s.Status is ClusterStatus.None or ClusterStatus.Deleted)
            return new UpdateDecision.Answer(OperationResult.NotFound($"service instance {instanceId} does not exist"));
        var current = s.Spec!;
        // A rename (context-only update) changes nothing outside the broker: always synchronous, whatever runs.
        if (request.ServiceId == current.ServiceId && IsContextOnly(s, request))
            return new UpdateDecision.Rename(MergeContext(s.Context!, request.Context));
        var name = DisplayName(s, instanceId);
        switch (s.Status)
        {
            case ClusterStatus.Creating:
                return Busy($"cluster {name} is still being created; update it once its creation succeeded");
            case ClusterStatus.Deleting:
                return Busy($"cluster {name} is being deleted");
            case ClusterStatus.Failed when s.FailedOperation == OperationKind.Create:
                return Refuse($"cluster {name} failed to be created and cannot be updated; delete it and create it again");
        }

        if (request.ServiceId != current.ServiceId)
            return Refuse(catalog.WrongIds(instanceId, request.ServiceId, request.PlanId, current.ServiceId, current.PlanId, ownerIsDatabase: false));
        var service = catalog.FindService(current.ServiceId)!;
        var currentPlan = service.FindPlan(current.PlanId);
        if (currentPlan is null) return Refuse($"the plan of instance {instanceId} is no longer in the catalog; ask an operator");
        var targetPlan = request.PlanId is null ? currentPlan : service.FindPlan(request.PlanId);
        if (targetPlan is null) return Refuse($"plan {request.PlanId} is not a plan of service {service.Name}");
        if (targetPlan.Id != currentPlan.Id && (targetPlan.Kind != PlanKind.Cluster || !currentPlan.PlanUpdateable || !currentPlan.CanChangeTo(targetPlan)))
            return new UpdateDecision.Answer(PlanChangeRefused(service, currentPlan, targetPlan));
        if (request.MaintenanceInfoVersion is { } asked && asked != targetPlan.MaintenanceInfoVersion)
            return new UpdateDecision.Answer(MaintenanceConflict(targetPlan, asked));

        var parameters = Merge(current.Parameters(), request.ParametersJson);
        var target = new InstanceSpec(current.ServiceId, targetPlan.Id, parameters.ToJsonString(), targetPlan.MaintenanceInfoVersion);
        var context = MergeContext(s.Context!, request.Context);
        if (s.Status == ClusterStatus.Updating)
            return s.Operation!.Target is { } running && running.SameAs(target)
                ? new UpdateDecision.Answer(OperationResult.InProgress(s.Operation.Id))
                : Busy($"cluster {name} is being updated; try again when its last operation finished");

        var changes = targetPlan.Id != current.PlanId
            || !JsonNode.DeepEquals(parameters, current.Parameters())
            || (request.MaintenanceInfoVersion is not null && request.MaintenanceInfoVersion != current.MaintenanceInfoVersion);
        var renamed = context != s.Context;
        // After a failed update or delete, the same request runs the pipeline again (update_repeatable); a request
        // that changes nothing but the context renames, failed or not.
        if (!changes && (s.Status != ClusterStatus.Failed || renamed))
            return renamed ? new UpdateDecision.Rename(context) : new UpdateDecision.Answer(OperationResult.Completed);
        if (!request.AcceptsIncomplete) return new UpdateDecision.Answer(OperationResult.AsyncRequired);
        return new UpdateDecision.Run(target, currentPlan, targetPlan, context);
    }

    public static DeleteDecision DecideDelete(ClusterState s, string instanceId, DeprovisionRequest request, BrokerCatalog catalog, bool credentialStoreEnabled)
    {
        if (s.Status is ClusterStatus.None or ClusterStatus.Deleted) return new(OperationResult.Gone);
        if (request.ServiceId != s.Spec!.ServiceId || !AcceptedPlanIds(s).Contains(request.PlanId))
            return new(OperationResult.BadRequest(catalog.WrongIds(instanceId, request.ServiceId, request.PlanId, s.Spec.ServiceId, s.Spec.PlanId, ownerIsDatabase: false)));
        switch (s.Status)
        {
            case ClusterStatus.Deleting:
                return new(OperationResult.InProgress(s.Operation!.Id));
            case ClusterStatus.Updating:
                return new(OperationResult.Busy($"cluster {DisplayName(s, instanceId)} is being updated; delete it once the update finished"));
        }
        if (s.Children.Count > 0)
            return new(OperationResult.BadRequest(
                $"can not delete cluster service instance with child service instances ({string.Join(", ", s.Children.Select(c => $"guid={c.InstanceId}"))}). Use dashboard to list all child service instance details."));

        var creating = s.Status == ClusterStatus.Creating;
        // A running create may have set its pipeline or stored credentials without having persisted it yet.
        var mayHaveLeftSomething = s.Pipeline.MayExist || creating || credentialStoreEnabled;
        var firstStep = (s.Pipeline.EverTriggered, mayHaveLeftSomething, creating) switch
        {
            (true, _, true) => OperationStep.AbortBuild,   // stop the running deploy before deleting what it made
            (true, _, false) => OperationStep.Unpause,     // run the pipeline's delete job
            (false, true, _) => OperationStep.DestroyPipeline,
            (false, false, _) => OperationStep.Done,       // nothing was ever created outside the broker
        };
        // The platform may still name the other side of the last plan change (a failed one included).
        var fromPlan = s.Operation?.Target?.PlanId is { } target && target != s.Spec.PlanId ? target : s.Operation?.FromPlanId;
        return new(null, firstStep, fromPlan);
    }

    /// <summary>The plans a request about this cluster may name (see <see cref="LastOperationView.PlanIds"/>).</summary>
    public static List<string> AcceptedPlanIds(ClusterState s) =>
        new[] { s.Spec?.PlanId, s.Operation?.Target?.PlanId, s.Operation?.FromPlanId }.OfType<string>().Distinct().ToList();

    public static string DisplayName(ClusterState s, string instanceId) => s.Context?.InstanceName is { Length: > 0 } name ? $"'{name}'" : instanceId;

    /// <summary>No plan, parameter or version change, and a new context: what Cloud Controller sends for `cf rename-service`.</summary>
    private static bool IsContextOnly(ClusterState s, UpdateRequest request) =>
        request.Context is not null
        && (request.PlanId is null || request.PlanId == s.Spec!.PlanId)
        && (request.ParametersJson is null || JsonNode.Parse(request.ParametersJson) is JsonObject { Count: 0 })
        && (request.MaintenanceInfoVersion is null || request.MaintenanceInfoVersion == s.Spec!.MaintenanceInfoVersion)
        && MergeContext(s.Context!, request.Context) != s.Context;

    private static bool IsSameCreate(ClusterState s, ProvisionRequest request) =>
        s.Spec is { } spec && s.Context is { } context
        && spec.ServiceId == request.ServiceId && spec.PlanId == request.PlanId
        && context.OrganizationGuid == request.Context.OrganizationGuid && context.SpaceGuid == request.Context.SpaceGuid
        && JsonNode.DeepEquals(spec.Parameters(), JsonNode.Parse(request.ParametersJson));

    private static OperationResult ConflictWithExisting(string instanceId) =>
        OperationResult.Conflict($"service instance {instanceId} already exists with a different service, plan, space or parameters");

    public static OperationResult MaintenanceConflict(ServicePlan plan, string asked) => new(OperationOutcome.MaintenanceInfoConflict, null,
        $"maintenance_info.version {asked} is not the version plan {plan.Name} offers ({plan.MaintenanceInfoVersion}); refresh the service broker's catalog and try again");

    private static OperationResult PlanChangeRefused(ServiceOffering service, ServicePlan from, ServicePlan to)
    {
        var allowed = from.PlanUpdateable ? from.AllowedPlanChanges.Where(n => service.FindPlanByName(n) is not null).ToList() : [];
        var targets = allowed.Count == 0 ? "none: this plan cannot be changed" : string.Join(", ", allowed);
        return new(OperationOutcome.PlanChangeNotSupported, null, $"changing plan {from.Name} to {to.Name} is not supported; allowed target plans: {targets}");
    }

    private static JsonObject Merge(JsonObject current, string? changesJson)
    {
        if (changesJson is null || JsonNode.Parse(changesJson) is not JsonObject changes) return current;
        foreach (var (name, value) in changes)
        {
            if (value is null) current.Remove(name);
            else current[name] = value.DeepClone();
        }
        return current;
    }

    private static InstanceContext MergeContext(InstanceContext current, InstanceContext? update) => update is null ? current : current with
    {
        OrganizationName = update.OrganizationName ?? current.OrganizationName,
        SpaceName = update.SpaceName ?? current.SpaceName,
        InstanceName = update.InstanceName ?? current.InstanceName,
    };

    private static UpdateDecision Busy(string description) => new UpdateDecision.Answer(OperationResult.Busy(description));

    private static UpdateDecision Refuse(string description) => new UpdateDecision.Answer(OperationResult.BadRequest(description));
}
