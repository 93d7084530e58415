using OnDemand.BrokerGateway.CloudFoundry;
using OnDemand.BrokerGateway.Dashboard;

namespace OnDemand.BrokerGateway.Osb;

/// <summary>
/// OSB service instance routes. They check the request against the catalog and the plan's schema, then hand the
/// decision to the instance's grain; no state lives here.
/// </summary>
public static class InstanceEndpoints
{
    public static void MapInstanceEndpoints(this IEndpointRouteBuilder routes)
    {
        var instances = routes.MapGroup("/v2/service_instances/{instanceId}");
        instances.MapPut("", Provision);
        instances.MapPatch("", Update);
        instances.MapDelete("", Deprovision);
        instances.MapGet("", Fetch);
        instances.MapGet("/last_operation", LastOperation);
    }

    private static async Task<IResult> Provision(string instanceId, HttpRequest request, BrokerCatalog catalog, ParameterSchemas schemas, IGrainFactory grains, DashboardLinks links,
        ClusterSharing sharing)
    {
        if (OsbRequest.CheckId(instanceId, "instance id") is { } badId) return badId;
        if (!OriginatingIdentity.TryRead(request, out var userId, out var identityProblem)) return OsbError.BadRequest(identityProblem!);
        var (body, bodyError) = await OsbRequest.ReadBodyAsync(request);
        if (bodyError is not null) return bodyError;
        if (OsbRequest.Require(body!, "service_id", out var serviceId) is { } e1) return e1;
        if (OsbRequest.Require(body!, "plan_id", out var planId) is { } e2) return e2;
        if (OsbRequest.Require(body!, "organization_guid", out var organizationGuid) is { } e3) return e3;
        if (OsbRequest.Require(body!, "space_guid", out var spaceGuid) is { } e4) return e4;
        if (catalog.FindService(serviceId) is null) return OsbError.BadRequest($"service_id {serviceId} is not in this broker's catalog");
        if (catalog.FindPlan(serviceId, planId) is not var (service, plan)) return OsbError.BadRequest($"plan_id {planId} is not a plan of service {serviceId}");
        if (OsbRequest.Parameters(body!, out var parameters) is { } e5) return e5;
        if (!OsbRequest.AcceptsIncomplete(request)) return OsbError.AsyncRequired();
        if (schemas.ValidateCreate(plan, parameters) is { } invalid) return OsbError.BadRequest(invalid);
        parameters = schemas.Normalize(plan, parameters);
        // A database's cluster may be another space's: found, and the user's role there checked, first (docs/sharing.md).
        var placement = plan.Kind == PlanKind.Database ? await sharing.PlaceAsync(request, service, plan, parameters, organizationGuid, spaceGuid, userId) : null;
        if (placement?.Refusal is { } refused) return refused;

        var provision = new ProvisionRequest(serviceId, planId, parameters.ToJsonString(), OsbRequest.MaintenanceInfoVersion(body!),
            OsbRequest.Context(body!, organizationGuid, spaceGuid), userId, placement?.ClusterSpaceGuid);
        var result = await InstanceRouter.Grain(grains, instanceId, plan.Kind == PlanKind.Database).Provision(provision);
        // A database's page is its cluster's, which lists it: its first answer carries no dashboard link.
        return OutcomeResponses.ToResult(result, plan.Kind == PlanKind.Database ? null : links.For(instanceId));
    }

    private static async Task<IResult> Update(string instanceId, HttpRequest request, BrokerCatalog catalog, ParameterSchemas schemas, IGrainFactory grains)
    {
        if (OsbRequest.CheckId(instanceId, "instance id") is { } badId) return badId;
        if (!OriginatingIdentity.TryRead(request, out var userId, out var identityProblem)) return OsbError.BadRequest(identityProblem!);
        var (body, bodyError) = await OsbRequest.ReadBodyAsync(request);
        if (bodyError is not null) return bodyError;
        if (OsbRequest.Require(body!, "service_id", out var serviceId) is { } e1) return e1;
        var service = catalog.FindService(serviceId);
        if (service is null) return OsbError.BadRequest($"service_id {serviceId} is not in this broker's catalog");
        var planId = OsbRequest.String(body!, "plan_id");
        if (planId is not null && service.FindPlan(planId) is null) return OsbError.BadRequest($"plan_id {planId} is not a plan of service {service.Name}");
        if (OsbRequest.Parameters(body!, out var parameters) is { } e2) return e2;

        // The instance itself says what it is and which plan's schema applies (previous_values is the platform's
        // belief, and could name anything).
        var previousPlanId = body!["previous_values"] is JsonObject previous ? OsbRequest.String(previous, "plan_id") : null;
        var owner = await InstanceRouter.FindAsync(grains, instanceId, InstanceRouter.DatabaseFirst(catalog, serviceId, previousPlanId ?? planId));
        if (owner.Found && owner.ServiceId != serviceId)
            return InstanceRouter.CheckIds(catalog, instanceId, owner, serviceId, null)!;
        var currentPlan = owner.Found ? service.FindPlan(owner.PlanIds![0]) : null;
        var targetPlan = planId is null ? currentPlan : service.FindPlan(planId);
        if (parameters.Count > 0 && targetPlan is not null && schemas.ValidateUpdate(targetPlan, parameters) is { } invalid) return OsbError.BadRequest(invalid);
        if (parameters.Count > 0 && targetPlan is not null) parameters = schemas.Normalize(targetPlan, parameters);

        var update = new UpdateRequest(serviceId, planId, body.ContainsKey("parameters") ? parameters.ToJsonString() : null,
            OsbRequest.MaintenanceInfoVersion(body), OsbRequest.UpdateContext(body), userId, OsbRequest.AcceptsIncomplete(request));
        var isDatabase = owner.Found ? owner.IsDatabase : currentPlan?.Kind == PlanKind.Database || targetPlan?.Kind == PlanKind.Database;
        var result = await InstanceRouter.Grain(grains, instanceId, isDatabase).Update(update);
        return OutcomeResponses.ToResult(result);
    }

    private static async Task<IResult> Deprovision(string instanceId, HttpRequest request, BrokerCatalog catalog, IGrainFactory grains)
    {
        if (OsbRequest.CheckId(instanceId, "instance id") is { } badId) return badId;
        if (!OriginatingIdentity.TryRead(request, out var userId, out var identityProblem)) return OsbError.BadRequest(identityProblem!);
        if (OsbRequest.Query(request, "service_id", out var serviceId) is { } e1) return e1;
        if (OsbRequest.Query(request, "plan_id", out var planId) is { } e2) return e2;
        if (catalog.FindPlan(serviceId, planId) is not var (_, plan)) return OsbError.BadRequest($"plan_id {planId} is not a plan of service {serviceId}");
        if (!OsbRequest.AcceptsIncomplete(request)) return OsbError.AsyncRequired();

        // 410 only when no instance has the id; ids of another instance kind, service or plan are a 400.
        var owner = await InstanceRouter.FindAsync(grains, instanceId, plan.Kind == PlanKind.Database);
        if (!owner.Found) return OsbJson.Empty(StatusCodes.Status410Gone);
        if (InstanceRouter.CheckIds(catalog, instanceId, owner, serviceId, planId) is { } wrongIds) return wrongIds;

        var deprovision = new DeprovisionRequest(serviceId, planId, userId);
        var result = await InstanceRouter.Grain(grains, instanceId, owner.IsDatabase).Deprovision(deprovision);
        return OutcomeResponses.ToResult(result);
    }

    private static async Task<IResult> Fetch(string instanceId, HttpRequest request, IGrainFactory grains, BrokerCatalog catalog, DashboardLinks links)
    {
        if (OsbRequest.CheckId(instanceId, "instance id") is { } badId) return badId;
        string? serviceId = request.Query["service_id"], planId = request.Query["plan_id"];
        if (!string.IsNullOrEmpty(serviceId) || !string.IsNullOrEmpty(planId))
        {
            var owner = await InstanceRouter.FindAsync(grains, instanceId, InstanceRouter.DatabaseFirst(catalog, serviceId, planId));
            if (InstanceRouter.CheckIds(catalog, instanceId, owner, serviceId, planId) is { } wrongIds) return wrongIds;
        }
        var view = await InstanceRouter.FetchAsync(grains, instanceId);
        return view.Outcome switch
        {
            FetchOutcome.Found => OsbJson.Result(StatusCodes.Status200OK, new JsonObject
            {
                ["service_id"] = view.ServiceId,
                ["plan_id"] = view.PlanId,
                // A database's page is its cluster's, which lists it.
                ["dashboard_url"] = links.For(view.DashboardInstanceId ?? instanceId),
                ["parameters"] = JsonNode.Parse(view.ParametersJson ?? "{}"),
                ["maintenance_info"] = new JsonObject { ["version"] = view.MaintenanceInfoVersion },
            }),
            FetchOutcome.ConcurrencyError => new OsbError(StatusCodes.Status422UnprocessableEntity, "ConcurrencyError", view.Description),
            _ => OsbError.NotFound($"service instance {instanceId} does not exist or is still being created"),
        };
    }

    private static async Task<IResult> LastOperation(string instanceId, HttpRequest request, IGrainFactory grains, BrokerCatalog catalog)
    {
        if (OsbRequest.CheckId(instanceId, "instance id") is { } badId) return badId;
        string? serviceId = request.Query["service_id"], planId = request.Query["plan_id"];
        var view = await InstanceRouter.FindAsync(grains, instanceId, InstanceRouter.DatabaseFirst(catalog, serviceId, planId));
        if (!view.Found) return OsbError.NotFound($"service instance {instanceId} does not exist");
        if (InstanceRouter.CheckIds(catalog, instanceId, view, serviceId, planId) is { } wrongIds) return wrongIds;
        return OsbJson.Result(StatusCodes.Status200OK, new JsonObject
        {
            ["state"] = view.State switch
            {
                LastOperationState.InProgress => "in progress",
                LastOperationState.Succeeded => "succeeded",
                _ => "failed",
            },
            ["description"] = view.Description,
        });
    }

}
