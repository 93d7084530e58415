using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.BrokerGateway.Operator;

/// <summary>One cluster of the fleet as operators see it.</summary>
public sealed record FleetEntry(ClusterClaim Claim, ClusterDashboardView? View, string? CatalogVersion)
{
    public bool Behind => View is not null && CatalogVersion is not null && View.MaintenanceInfoVersion != CatalogVersion;

    public JsonObject ToJson() => new()
    {
        ["instance_id"] = Claim.InstanceId,
        ["name"] = View?.Context.InstanceName,
        ["organization_guid"] = Claim.OrganizationGuid,
        ["organization_name"] = View?.Context.OrganizationName,
        ["space_guid"] = View?.Context.SpaceGuid,
        ["plan"] = Claim.PlanName,
        ["status"] = View?.Status.ToString() ?? "Unknown",
        ["template_version"] = View?.MaintenanceInfoVersion,
        ["catalog_version"] = CatalogVersion,
        ["behind"] = Behind,
        ["pipeline"] = View?.PipelineName,
        ["databases"] = View?.Databases.Count ?? 0,
        ["last_operation"] = View?.Operations.FirstOrDefault() is { } last ? $"{last.Kind} {last.State}: {last.Description}" : null,
    };
}

/// <summary>The fleet with each cluster's catalog version (Grains' FleetReader does the reading).</summary>
public static class FleetListing
{
    public static async Task<IReadOnlyList<FleetEntry>> ReadAsync(IGrainFactory grains, BrokerCatalog catalog) =>
        (await OnDemand.Grains.Fleet.FleetReader.ReadAsync(grains))
            .Select(f => new FleetEntry(f.Claim, f.View, catalog.FindPlan(f.Claim.ServiceId, f.View?.PlanId ?? f.Claim.PlanId)?.Plan.MaintenanceInfoVersion))
            .ToList();
}
