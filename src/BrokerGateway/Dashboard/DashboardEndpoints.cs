using Microsoft.Extensions.Options;
using OnDemand.Grains.Hosting;

namespace OnDemand.BrokerGateway.Dashboard;

/// <summary>
/// GET /dashboard/instances/{id}: open with the instance's own unexpired link or operator Basic auth
/// (docs/security.md, "Dashboard links"). A link stops working when it expires or its instance is deleted; failures
/// count towards the client address's limit of failed authentications.
/// </summary>
public static class DashboardEndpoints
{
    public static void MapDashboardEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/dashboard/instances/{instanceId}", Show).AddEndpointFilter(DashboardHeaders.Add);
    }

    private static async Task<IResult> Show(string instanceId, string? expires, string? token, HttpRequest request, DashboardLinks links,
        IOptions<GatewaySettings> settings, IGrainFactory grains, BrokerCatalog catalog)
    {
        var operators = new BasicCredentials(settings.Value.OperatorUsername, settings.Value.OperatorPassword);
        var isOperator = settings.Value.OperatorPassword.Length > 0 && operators.Match(request.Headers.Authorization);
        if (!isOperator)
        {
            var link = links.Check(instanceId, expires, token);
            if (link == LinkCheck.Expired)
                return new AuthRejection(OperatorGate.Realm, $"this dashboard link has expired (links work for {links.Lifetime:g}): ask the broker for a fresh " +
                    "one (it answers each fetch of the service instance, GET /v2/service_instances/:id, with a new link) or sign in with operator credentials");
            if (link == LinkCheck.Invalid)
                return new AuthRejection(OperatorGate.Realm, "use the dashboard link of the service instance (cf service NAME) or operator credentials");
        }
        var view = await grains.GetGrain<IClusterGrain>(instanceId).GetDashboard();
        if (view is null) return Osb.OsbError.NotFound($"service instance {instanceId} does not exist");
        // A deleted instance's link opens nothing; operators still see its last state.
        if (view.Status == ClusterStatus.Deleted && !isOperator)
            return new Osb.OsbError(StatusCodes.Status410Gone, "Gone", $"service instance {instanceId} was deleted");
        return Results.Content(DashboardPage.Render(view, catalog), "text/html; charset=utf-8");
    }
}
