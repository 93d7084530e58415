using System.Net;
using System.Text;

namespace OnDemand.BrokerGateway.Dashboard;

/// <summary>The HTML page of one cluster: its state, plan, pipeline, databases and recent operations.</summary>
public static class DashboardPage
{
    public static string Render(ClusterDashboardView view, BrokerCatalog catalog)
    {
        var plan = catalog.FindPlan(view.ServiceId, view.PlanId)?.Plan;
        var service = catalog.FindService(view.ServiceId);
        var html = new StringBuilder();
        html.Append("<!doctype html><html><head><meta charset=\"utf-8\"><title>")
            .Append(E(view.Context.InstanceName ?? view.InstanceId)).Append(" - cluster</title>")
            .Append("<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}")
            .Append(".failed{color:#b00}.succeeded{color:#070}</style></head><body>");
        html.Append("<h1>").Append(E(view.Context.InstanceName ?? view.InstanceId)).Append("</h1><table>");
        Row(html, "Instance id", view.InstanceId);
        Row(html, "Status", view.Status.ToString());
        Row(html, "Service", service?.Name ?? view.ServiceId);
        Row(html, "Plan", plan?.Name ?? view.PlanId);
        Row(html, "Template version", view.MaintenanceInfoVersion);
        Row(html, "Parameters", view.ParametersJson);
        Row(html, "Organization", view.Context.OrganizationName ?? view.Context.OrganizationGuid);
        Row(html, "Space", view.Context.SpaceName ?? view.Context.SpaceGuid);
        html.Append("<tr><th>Pipeline</th><td><a href=\"").Append(E(view.PipelineUrl)).Append("\">").Append(E(view.PipelineName)).Append("</a></td></tr></table>");

        html.Append("<h2>Databases (").Append(view.Databases.Count).Append(")</h2>");
        if (view.Databases.Count == 0) html.Append("<p>No database in this cluster.</p>");
        else
        {
            html.Append("<table><tr><th>Name</th><th>Instance id</th><th>Organization</th><th>Space</th><th>Plan</th><th>State</th><th>Bindings</th></tr>");
            foreach (var db in view.Databases)
            {
                var dbPlan = service?.FindPlan(db.PlanId)?.Name ?? db.PlanId;
                // A database shared from another space lives there: its org and space are its own, not the cluster's.
                html.Append("<tr><td>").Append(E(db.Name ?? "")).Append("</td><td>").Append(E(db.InstanceId))
                    .Append("</td><td>").Append(E(Place(db.Context?.OrganizationName, db.Context?.OrganizationGuid)))
                    .Append("</td><td>").Append(E(Place(db.Context?.SpaceName, db.Context?.SpaceGuid))).Append("</td><td>").Append(E(dbPlan))
                    .Append("</td><td>").Append(E(db.State)).Append("</td><td>").Append(db.Bindings).Append("</td></tr>");
            }
            html.Append("</table>");
        }

        html.Append("<h2>Operations</h2><table><tr><th>Started</th><th>Kind</th><th>State</th><th>Description</th><th>Build</th></tr>");
        foreach (var op in view.Operations)
        {
            var state = op.State switch { LastOperationState.InProgress => "in progress", LastOperationState.Succeeded => "succeeded", _ => "failed" };
            html.Append("<tr><td>").Append(op.StartedAt.ToString("u")).Append("</td><td>").Append(op.Kind.ToString().ToLowerInvariant())
                .Append("</td><td class=\"").Append(state.Replace(' ', '-')).Append("\">").Append(state).Append("</td><td>").Append(E(op.Description)).Append("</td><td>");
            if (op.BuildUrl is not null) html.Append("<a href=\"").Append(E(op.BuildUrl)).Append("\">build</a>");
            html.Append("</td></tr>");
        }
        html.Append("</table></body></html>");
        return html.ToString();
    }

    private static void Row(StringBuilder html, string name, string value) =>
        html.Append("<tr><th>").Append(E(name)).Append("</th><td>").Append(E(value)).Append("</td></tr>");

    /// <summary>"my-space (guid)", the guid alone when the platform sent no name, "" when unknown.</summary>
    private static string Place(string? name, string? guid) =>
        guid is null ? "" : string.IsNullOrEmpty(name) ? guid : $"{name} ({guid})";

    private static string E(string text) => WebUtility.HtmlEncode(text);
}
