namespace OnDemand.BrokerGateway.Osb;

/// <summary>
/// OSB binding routes. Cluster instances are not bindable: apps bind to the databases created inside a cluster.
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

    private static async Task<IResult> Bind(string instanceId, string bindingId, HttpRequest request, BrokerCatalog catalog)
    {
        if ((OsbRequest.CheckId(instanceId, "instance id") ?? OsbRequest.CheckId(bindingId, "binding id")) is { } badId) return badId;
        if (!OriginatingIdentity.TryRead(request, out _, out var identityProblem)) return OsbError.BadRequest(identityProblem!);
        var (body, bodyError) = await OsbRequest.ReadBodyAsync(request);
        if (bodyError is not null) return bodyError;
        if (OsbRequest.Require(body!, "service_id", out var serviceId) is { } e1) return e1;
        if (OsbRequest.Require(body!, "plan_id", out var planId) is { } e2) return e2;
        if (catalog.FindPlan(serviceId, planId) is not var (service, plan)) return OsbError.BadRequest($"plan_id {planId} is not a plan of service {serviceId}");
        return NotBindable(service, plan);
    }

    private static IResult Fetch(string instanceId, string bindingId) =>
        OsbError.NotFound($"binding {bindingId} of service instance {instanceId} does not exist");

    private static IResult Unbind(string instanceId, string bindingId, HttpRequest request, BrokerCatalog catalog)
    {
        var serviceId = request.Query["service_id"].ToString();
        var planId = request.Query["plan_id"].ToString();
        if (serviceId.Length == 0) return OsbError.BadRequest("service_id is required");
        if (planId.Length == 0) return OsbError.BadRequest("plan_id is required");
        if (catalog.FindPlan(serviceId, planId) is null) return OsbError.BadRequest($"plan_id {planId} is not a plan of service {serviceId}");
        return OsbJson.Empty(StatusCodes.Status410Gone);
    }

    private static IResult LastOperation(string instanceId, string bindingId) =>
        OsbError.NotFound($"binding {bindingId} of service instance {instanceId} does not exist");

    private static OsbError NotBindable(ServiceOffering service, ServicePlan plan) => plan.Kind == PlanKind.Cluster
        ? OsbError.BadRequest($"{plan.Name} is a cluster plan and cannot be bound: create a database in the cluster " +
                              $"(cf create-service {service.Name} <database-plan> <name> -c '{{\"cluster\":\"<cluster name>\"}}') and bind that")
        : OsbError.BadRequest($"database plan {plan.Name} is not available yet on this broker");
}
