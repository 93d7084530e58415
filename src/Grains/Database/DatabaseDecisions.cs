using System.Text.Json.Nodes;

namespace OnDemand.Grains.Database;

/// <summary>What a create does: an answer, or a new database of <paramref name="Plan"/> in the cluster named
/// <paramref name="ClusterName"/> in space <paramref name="ClusterSpaceGuid"/> (the requester's, or the one the gateway
/// resolved and checked the requester's role in).</summary>
public sealed record DatabaseCreateDecision(OperationResult? Answer, ServiceOffering? Service = null, ServicePlan? Plan = null, string? ClusterName = null,
    string? ClusterSpaceGuid = null);

/// <summary>What a bind does: an answer, or a binding to create (or to finish, when <paramref name="Pending"/> exists).</summary>
public sealed record BindDecision(BindResult? Answer, BindingRecord? Pending = null);

/// <summary>
/// What an OSB request does to a database in a given state: pure functions of the state, the request and the catalog
/// (no I/O, no Orleans), unit-tested directly. The database grain carries them out.
/// </summary>
public static class DatabaseDecisions
{
    public static DatabaseCreateDecision BeforeCreate(DatabaseState s, string instanceId, ProvisionRequest request, BrokerCatalog catalog)
    {
        switch (s.Status)
        {
            case DatabaseStatus.None or DatabaseStatus.Deleted:
                break;
            case DatabaseStatus.Creating:
                return new(IsSameCreate(s, request) ? OperationResult.InProgress(s.Operation!.Id) : Conflict(instanceId));
            case DatabaseStatus.Ready:
                return new(IsSameCreate(s, request) ? OperationResult.AlreadyExists : Conflict(instanceId));
            case DatabaseStatus.Failed when s.FailedOperation == OperationKind.Create:
                return new(OperationResult.Conflict($"service instance {instanceId} exists but its creation failed; delete it and create it again"));
            default:
                return new(OperationResult.Conflict($"service instance {instanceId} is being deleted or failed to be deleted"));
        }

        if (catalog.FindPlan(request.ServiceId, request.PlanId) is not var (service, plan) || plan.Kind != PlanKind.Database)
            return new(OperationResult.BadRequest($"plan {request.PlanId} is not a database plan of service {request.ServiceId}"));
        if (request.MaintenanceInfoVersion is { } asked && asked != plan.MaintenanceInfoVersion)
            return new(new OperationResult(OperationOutcome.MaintenanceInfoConflict, null, $"maintenance_info.version {asked} is not the version plan {plan.Name} offers ({plan.MaintenanceInfoVersion})"));
        var (reference, problem) = ClusterReference.Parse(JsonNode.Parse(request.ParametersJson) as JsonObject ?? [], service.Name, plan.Name);
        if (reference is null) return new(OperationResult.BadRequest(problem!));
        // Another org or space is resolved, and the requester's role in it checked, by the gateway (Cloud Foundry API):
        // a request that names one without that resolution never reaches a cluster outside the requester's space.
        if (reference.NamesOrgOrSpace && request.ClusterSpaceGuid is null)
            return new(OperationResult.BadRequest("the cluster's org and space (cluster-org, cluster-space) could not be checked; try again or ask the platform operators"));
        return new(null, service, plan, reference.Name, request.ClusterSpaceGuid ?? request.Context.SpaceGuid);
    }

    /// <returns>the answer, and the renamed context when the request renames the database.</returns>
    public static (OperationResult Result, InstanceContext? Renamed) DecideUpdate(DatabaseState s, string instanceId, UpdateRequest request, BrokerCatalog catalog)
    {
        if (s.Status is DatabaseStatus.None or DatabaseStatus.Deleted) return (OperationResult.NotFound($"service instance {instanceId} does not exist"), null);
        if (request.ServiceId != s.Spec!.ServiceId)
            return (OperationResult.BadRequest(catalog.WrongIds(instanceId, request.ServiceId, request.PlanId, s.Spec.ServiceId, s.Spec.PlanId, ownerIsDatabase: true)), null);
        if (request.PlanId is { } planId && planId != s.Spec.PlanId)
            return (new(OperationOutcome.PlanChangeNotSupported, null, "a database's plan cannot be changed: create a database of the new plan and move the data"), null);
        if (request.ParametersJson is { } changes && JsonNode.Parse(changes) is JsonObject { Count: > 0 })
            return (OperationResult.BadRequest("a database's parameters cannot be changed; its cluster is chosen when it is created"), null);
        // A rename is synchronous and runs nothing, whatever the database is doing.
        return (OperationResult.Completed, request.Context?.InstanceName is { } name && name != s.Context!.InstanceName ? s.Context with { InstanceName = name } : null);
    }

    /// <returns>null when the delete starts; otherwise the answer.</returns>
    public static OperationResult? BeforeDelete(DatabaseState s, string instanceId, DeprovisionRequest request, BrokerCatalog catalog)
    {
        if (s.Status is DatabaseStatus.None or DatabaseStatus.Deleted) return OperationResult.Gone;
        if (request.ServiceId != s.Spec!.ServiceId || request.PlanId != s.Spec.PlanId)
            return OperationResult.BadRequest(catalog.WrongIds(instanceId, request.ServiceId, request.PlanId, s.Spec.ServiceId, s.Spec.PlanId, ownerIsDatabase: true));
        // A delete during creation (orphan mitigation) supersedes it: the cluster drops whatever exists.
        return s.Status == DatabaseStatus.Deleting ? OperationResult.InProgress(s.Operation!.Id) : null;
    }

    /// <param name="credentials">decrypts a completed binding's credentials (the only impure part, passed in).</param>
    public static BindDecision BeforeBind(DatabaseState s, string instanceId, string bindingId, BindRequest request, BrokerCatalog catalog, Func<BindingRecord, string> credentials)
    {
        var existing = s.Bindings.Find(b => b.Id == bindingId);
        if (existing is not null)
        {
            if (existing.ServiceId != request.ServiceId || existing.PlanId != request.PlanId || existing.AppGuid != request.AppGuid
                || !JsonNode.DeepEquals(JsonNode.Parse(existing.ParametersJson), JsonNode.Parse(request.ParametersJson)))
                return new(new BindResult(BindOutcome.Conflict, Description: $"binding {bindingId} already exists with other attributes"));
            if (!existing.Pending) return new(new BindResult(BindOutcome.Exists, credentials(existing)));
        }
        var refusal = s.Status switch
        {
            DatabaseStatus.None or DatabaseStatus.Deleted => new BindResult(BindOutcome.BadRequest, Description: $"service instance {instanceId} does not exist"),
            DatabaseStatus.Creating => new BindResult(BindOutcome.Busy, Description: $"database is still being created: {s.Operation!.Description}"),
            DatabaseStatus.Deleting => new BindResult(BindOutcome.Busy, Description: "database is being deleted"),
            DatabaseStatus.Failed when s.FailedOperation == OperationKind.Create =>
                new BindResult(BindOutcome.BadRequest, Description: "this database failed to be created; delete it and create it again"),
            _ => null,
        };
        if (refusal is not null) return new(refusal);
        if (request.ServiceId != s.Spec!.ServiceId || request.PlanId != s.Spec.PlanId)
            return new(new BindResult(BindOutcome.BadRequest, Description: catalog.WrongIds(instanceId, request.ServiceId, request.PlanId, s.Spec.ServiceId, s.Spec.PlanId, ownerIsDatabase: true)));
        return new(null, existing);
    }

    private static bool IsSameCreate(DatabaseState s, ProvisionRequest request) =>
        s.Spec is { } spec && spec.ServiceId == request.ServiceId && spec.PlanId == request.PlanId
        && s.Context!.SpaceGuid == request.Context.SpaceGuid
        && JsonNode.DeepEquals(spec.Parameters(), JsonNode.Parse(request.ParametersJson));

    private static OperationResult Conflict(string instanceId) =>
        OperationResult.Conflict($"service instance {instanceId} already exists with a different service, plan, space or parameters");
}
