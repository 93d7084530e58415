using Microsoft.Extensions.Options;
using OnDemand.Grains.Hosting;

namespace OnDemand.BrokerGateway.Dashboard;

/// <summary>GET /dashboard/instances/{id}: open with the instance's own link (token) or operator Basic auth.</summary>
public static class DashboardEndpoints
{
    public static void MapDashboardEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/dashboard/instances/{instanceId}", Show);
    }

    private static async Task<IResult> Show(string instanceId, string? token, HttpRequest request, DashboardLinks links, IOptions<GatewaySettings> settings,
        IGrainFactory grains, BrokerCatalog catalog)
    {
        var operators = new BasicCredentials(settings.Value.OperatorUsername, settings.Value.OperatorPassword);
        var isOperator = settings.Value.OperatorPassword.Length > 0 && operators.Match(request.Headers.Authorization);
        if (!isOperator && !links.IsValid(instanceId, token))
        {
            request.HttpContext.Response.Headers.WWWAuthenticate = "Basic realm=\"OnDemand.Orleans operators\"";
            return Results.Text("Use the dashboard link of the service instance (cf service NAME) or operator credentials.", statusCode: StatusCodes.Status401Unauthorized);
        }
        var view = await grains.GetGrain<IClusterGrain>(instanceId).GetDashboard();
        return view is null
            ? Results.Text($"service instance {instanceId} does not exist", statusCode: StatusCodes.Status404NotFound)
            : Results.Content(DashboardPage.Render(view, catalog), "text/html; charset=utf-8");
    }
}
