using OnDemand.BrokerGateway.Osb;

namespace OnDemand.BrokerGateway.Operator;

/// <summary>
/// While the maintenance switch is on, every create, update and delete of an instance or binding is answered 422
/// "MaintenanceMode" with a Retry-After, before the request reaches a grain; reads and last_operation pass.
/// Why 422 and not 503: Cloud Controller shows a 4xx's description to the user verbatim and does nothing else, while
/// a 5xx (503 included) is reported as a bad broker response (502) and, for a provision or bind, starts orphan
/// mitigation (up to 11 DELETEs). The error code is not one Cloud Controller special-cases (ConcurrencyError would
/// replace our description with its own "another operation is in progress").
/// </summary>
public sealed class MaintenanceGate(RequestDelegate next, MaintenanceSwitch maintenance)
{
    public static bool Applies(HttpContext context) => Applies(context.Request);

    private static bool Applies(HttpRequest request) =>
        !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && request.Path.StartsWithSegments("/v2/service_instances");

    public async Task InvokeAsync(HttpContext context)
    {
        var status = await maintenance.CurrentAsync();
        if (!status.On)
        {
            await next(context);
            return;
        }
        OnDemand.Grains.Telemetry.BrokerMetrics.Refused("maintenance");
        context.Response.Headers.RetryAfter = maintenance.RetryAfterSeconds(status).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await new OsbError(StatusCodes.Status422UnprocessableEntity, "MaintenanceMode", maintenance.Description(status)).ExecuteAsync(context);
    }
}
