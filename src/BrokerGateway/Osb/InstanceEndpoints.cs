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

    private static async Task<IResult> Provision(string instanceId, HttpRequest request, BrokerCatalog catalog, ParameterSchemas schemas, IGrainFactory grains, DashboardLinks links)
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
        if (catalog.FindPlan(serviceId, planId) is not var (_, plan)) return OsbError.BadRequest($"plan_id {planId} is not a plan of service {serviceId}");
        if (OsbRequest.Parameters(body!, out var parameters) is { } e5) return e5;
        if (!OsbRequest.AcceptsIncomplete(request)) return OsbError.AsyncRequired();
        if (plan.Kind == PlanKind.Database) return DatabasePlansNotAvailable(plan);
        if (schemas.ValidateCreate(plan, parameters) is { } invalid) return OsbError.BadRequest(invalid);

        var provision = new ProvisionRequest(serviceId, planId, parameters.ToJsonString(), OsbRequest.MaintenanceInfoVersion(body!),
            OsbRequest.Context(body!, organizationGuid, spaceGuid), userId);
        var result = await grains.GetGrain<IClusterGrain>(instanceId).Provision(provision);
        return OutcomeResponses.ToResult(result, links.For(request, instanceId));
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
        if (!OsbRequest.AcceptsIncomplete(request)) return OsbError.AsyncRequired();

        // The plan whose schema applies: the target, else the current one (as the platform or the instance says).
        var previousPlanId = body!["previous_values"] is JsonObject previous ? OsbRequest.String(previous, "plan_id") : null;
        var grain = grains.GetGrain<IClusterGrain>(instanceId);
        var schemaPlanId = planId ?? previousPlanId ?? (await grain.Fetch()).PlanId;
        var schemaPlan = schemaPlanId is null ? null : service.FindPlan(schemaPlanId);
        if (schemaPlan?.Kind == PlanKind.Database) return DatabasePlansNotAvailable(schemaPlan);
        if (parameters.Count > 0 && schemaPlan is not null && schemas.ValidateUpdate(schemaPlan, parameters) is { } invalid) return OsbError.BadRequest(invalid);

        var update = new UpdateRequest(serviceId, planId, body.ContainsKey("parameters") ? parameters.ToJsonString() : null,
            OsbRequest.MaintenanceInfoVersion(body), OsbRequest.UpdateContext(body), userId);
        return OutcomeResponses.ToResult(await grain.Update(update));
    }

    private static async Task<IResult> Deprovision(string instanceId, HttpRequest request, BrokerCatalog catalog, IGrainFactory grains)
    {
        if (OsbRequest.CheckId(instanceId, "instance id") is { } badId) return badId;
        if (!OriginatingIdentity.TryRead(request, out var userId, out var identityProblem)) return OsbError.BadRequest(identityProblem!);
        var serviceId = request.Query["service_id"].ToString();
        var planId = request.Query["plan_id"].ToString();
        if (serviceId.Length == 0) return OsbError.BadRequest("service_id is required");
        if (planId.Length == 0) return OsbError.BadRequest("plan_id is required");
        if (catalog.FindPlan(serviceId, planId) is not var (_, plan)) return OsbError.BadRequest($"plan_id {planId} is not a plan of service {serviceId}");
        if (!OsbRequest.AcceptsIncomplete(request)) return OsbError.AsyncRequired();
        // Orphan mitigation deletes for database plans must succeed: nothing of theirs exists yet.
        if (plan.Kind == PlanKind.Database) return OsbJson.Empty(StatusCodes.Status410Gone);

        var result = await grains.GetGrain<IClusterGrain>(instanceId).Deprovision(new DeprovisionRequest(serviceId, planId, userId));
        return OutcomeResponses.ToResult(result);
    }

    private static async Task<IResult> Fetch(string instanceId, HttpRequest request, IGrainFactory grains, DashboardLinks links)
    {
        if (OsbRequest.CheckId(instanceId, "instance id") is { } badId) return badId;
        var view = await grains.GetGrain<IClusterGrain>(instanceId).Fetch();
        return view.Outcome switch
        {
            FetchOutcome.Found => OsbJson.Result(StatusCodes.Status200OK, new JsonObject
            {
                ["service_id"] = view.ServiceId,
                ["plan_id"] = view.PlanId,
                ["dashboard_url"] = links.For(request, instanceId),
                ["parameters"] = JsonNode.Parse(view.ParametersJson ?? "{}"),
                ["maintenance_info"] = new JsonObject { ["version"] = view.MaintenanceInfoVersion },
            }),
            FetchOutcome.ConcurrencyError => new OsbError(StatusCodes.Status422UnprocessableEntity, "ConcurrencyError", view.Description),
            _ => OsbError.NotFound($"service instance {instanceId} does not exist or is still being created"),
        };
    }

    private static async Task<IResult> LastOperation(string instanceId, HttpRequest request, IGrainFactory grains)
    {
        if (OsbRequest.CheckId(instanceId, "instance id") is { } badId) return badId;
        var view = await grains.GetGrain<IClusterGrain>(instanceId).GetLastOperation(request.Query["operation"]);
        if (!view.Found) return OsbError.NotFound($"service instance {instanceId} does not exist");
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

    private static OsbError DatabasePlansNotAvailable(ServicePlan plan) => OsbError.BadRequest(
        $"database plan {plan.Name} is not available yet on this broker: create a cluster (e.g. cluster-small) for now");
}
