using System.Text.Json.Nodes;

namespace OnDemand.Grains.Cluster;

/// <summary>What the cluster should be: the plan, the user's parameters and the template version it runs.</summary>
[GenerateSerializer, Immutable, Alias("OnDemand.InstanceSpec")]
public sealed record InstanceSpec(string ServiceId, string PlanId, string ParametersJson, string MaintenanceInfoVersion)
{
    public JsonObject Parameters() => JsonNode.Parse(ParametersJson) as JsonObject ?? [];

    public bool SameAs(InstanceSpec other) =>
        ServiceId == other.ServiceId && PlanId == other.PlanId && MaintenanceInfoVersion == other.MaintenanceInfoVersion
        && JsonNode.DeepEquals(Parameters(), other.Parameters());
}
