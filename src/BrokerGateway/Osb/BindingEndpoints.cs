namespace OnDemand.BrokerGateway.Osb;

/// <summary>
/// OSB binding routes. Databases are bindable (synchronously: 201 with credentials); clusters are not: apps bind
/// to the databases created inside a cluster.
/// </summary>
public static class BindingEndpoints
{
    public static void MapBindingEndpoints(this IEndpointRouteBuilder routes)
    {
        var bindings = routes.MapGroup("/v2/service_instances/{instanceId}/service_bindings/{bindingId}");
        bindings.MapPut("", Bind);
        bindings.MapGet("", Fetch);
        bindings.MapDelete("", Unbind);
        bindings.MapGet("/last_operation", LastOperation);
    }

    private static async Task<IResult> Bind(string instanceId, string bindingId, HttpRequest request, BrokerCatalog catalog, IGrainFactory grains)
    {
        if ((OsbRequest.CheckId(instanceId, "instance id") ?? OsbRequest.CheckId(bindingId, "binding id")) is { } badId) return badId;
        if (!OriginatingIdentity.TryRead(request, out var userId, out var identityProblem)) return OsbError.BadRequest(identityProblem!);
        var (body, bodyError) = await OsbRequest.ReadBodyAsync(request);
        if (bodyError is not null) return bodyError;
        if (OsbRequest.Require(body!, "service_id", out var serviceId) is { } e1) return e1;
        if (OsbRequest.Require(body!, "plan_id", out var planId) is { } e2) return e2;
        if (catalog.FindPlan(serviceId, planId) is not var (service, plan)) return OsbError.BadRequest($"plan_id {planId} is not a plan of service {serviceId}");
        if (!plan.Bindable) return NotBindable(service, plan);
        if (OsbRequest.Parameters(body!, out var parameters) is { } e3) return e3;
        if (parameters.Count > 0) return OsbError.BadRequest($"bindings of plan {plan.Name} take no parameters");

        // Service keys carry no app_guid (sometimes an empty bind_resource).
        var appGuid = OsbRequest.String(body!, "app_guid") ?? (body!["bind_resource"] is JsonObject resource ? OsbRequest.String(resource, "app_guid") : null);
        var result = await grains.GetGrain<IDatabaseGrain>(instanceId).Bind(bindingId, new BindRequest(serviceId, planId, appGuid, parameters.ToJsonString(), userId));
        return ToResult(result);
    }

    private static async Task<IResult> Fetch(string instanceId, string bindingId, IGrainFactory grains)
    {
        var result = await grains.GetGrain<IDatabaseGrain>(instanceId).GetBinding(bindingId);
        return result.Outcome == BindOutcome.Exists
            ? OsbJson.Result(StatusCodes.Status200OK, new JsonObject { ["credentials"] = JsonNode.Parse(result.CredentialsJson!), ["parameters"] = new JsonObject() })
            : OsbError.NotFound($"binding {bindingId} of service instance {instanceId} does not exist");
    }

    private static async Task<IResult> Unbind(string instanceId, string bindingId, HttpRequest request, BrokerCatalog catalog, IGrainFactory grains)
    {
        if ((OsbRequest.CheckId(instanceId, "instance id") ?? OsbRequest.CheckId(bindingId, "binding id")) is { } badId) return badId;
        if (OsbRequest.Query(request, "service_id", out var serviceId) is { } e1) return e1;
        if (OsbRequest.Query(request, "plan_id", out var planId) is { } e2) return e2;
        if (catalog.FindPlan(serviceId, planId) is not var (_, plan)) return OsbError.BadRequest($"plan_id {planId} is not a plan of service {serviceId}");
        if (!plan.Bindable)
        {
            // No binding of a cluster plan can exist; but ids of the wrong plan must not make a live binding "gone".
            var owner = await InstanceRouter.FindAsync(grains, instanceId, databaseFirst: true);
            return InstanceRouter.CheckIds(catalog, instanceId, owner, serviceId, planId) ?? OsbJson.Empty(StatusCodes.Status410Gone);
        }
        return ToResult(await grains.GetGrain<IDatabaseGrain>(instanceId).Unbind(bindingId, serviceId, planId));
    }

    private static async Task<IResult> LastOperation(string instanceId, string bindingId, IGrainFactory grains)
    {
        // Bindings are synchronous: one that exists has succeeded.
        var result = await grains.GetGrain<IDatabaseGrain>(instanceId).GetBinding(bindingId);
        return result.Outcome == BindOutcome.Exists
            ? OsbJson.Result(StatusCodes.Status200OK, new JsonObject { ["state"] = "succeeded" })
            : OsbError.NotFound($"binding {bindingId} of service instance {instanceId} does not exist");
    }

    private static IResult ToResult(BindResult result) => result.Outcome switch
    {
        BindOutcome.Created => OsbJson.Result(StatusCodes.Status201Created, new JsonObject { ["credentials"] = JsonNode.Parse(result.CredentialsJson!) }),
        BindOutcome.Exists => OsbJson.Result(StatusCodes.Status200OK, new JsonObject { ["credentials"] = JsonNode.Parse(result.CredentialsJson!) }),
        BindOutcome.Deleted => OsbJson.Empty(StatusCodes.Status200OK),
        BindOutcome.NotFound => OsbJson.Empty(StatusCodes.Status410Gone),
        BindOutcome.Conflict => new OsbError(StatusCodes.Status409Conflict, null, result.Description),
        BindOutcome.Busy => new OsbError(StatusCodes.Status422UnprocessableEntity, "ConcurrencyError", result.Description),
        BindOutcome.Unavailable => new OsbError(StatusCodes.Status503ServiceUnavailable, "ServiceUnavailable", result.Description),
        _ => OsbError.BadRequest(result.Description ?? "the binding was refused"),
    };

    private static OsbError NotBindable(ServiceOffering service, ServicePlan plan) =>
        OsbError.BadRequest($"{plan.Name} is a cluster plan and cannot be bound: create a database in the cluster " +
                            $"(cf create-service {service.Name} <database-plan> <name> -c '{{\"cluster\":\"<cluster name>\"}}') and bind that");
}
