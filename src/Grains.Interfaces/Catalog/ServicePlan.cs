using System.Text.Json.Nodes;

namespace OnDemand.Grains.Interfaces.Catalog;

/// <summary>One plan of the catalog, with what the broker needs to act on it (not only what OSB advertises).</summary>
public sealed class ServicePlan
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Description { get; init; }
    public required PlanKind Kind { get; init; }
    public required bool Bindable { get; init; }
    public required bool PlanUpdateable { get; init; }
    public bool Free { get; init; } = true;
    /// <summary>Names of the plans an instance of this plan may move to (besides itself).</summary>
    public IReadOnlyList<string> AllowedPlanChanges { get; init; } = [];
    /// <summary>Whole seconds an operation may take before it is failed; advertised in the catalog.</summary>
    public int MaximumPollingDuration { get; init; } = 7200;
    /// <summary>Semver of what an instance of this plan runs (the pipeline template version for clusters).</summary>
    public required string MaintenanceInfoVersion { get; init; }
    public string? MaintenanceInfoDescription { get; init; }
    /// <summary>Pipeline variables the plan sets (sizing), typed.</summary>
    public JsonObject Vars { get; init; } = [];
    /// <summary>JSON schema of the user's parameters on create; null accepts none.</summary>
    public JsonObject? CreateSchema { get; init; }
    /// <summary>JSON schema of the user's parameters on update; null accepts none.</summary>
    public JsonObject? UpdateSchema { get; init; }
    public JsonObject? Metadata { get; init; }

    /// <summary>Values the create schema declares as "default", so a template always receives every tuning var.</summary>
    public IEnumerable<KeyValuePair<string, JsonNode?>> ParameterDefaults()
    {
        if (CreateSchema?["properties"] is not JsonObject properties) yield break;
        foreach (var (name, property) in properties)
        {
            if (property is JsonObject p && p.TryGetPropertyValue("default", out var value))
                yield return new(name, value?.DeepClone());
        }
    }

    public bool CanChangeTo(ServicePlan target) =>
        target.Id == Id || (target.Kind == Kind && AllowedPlanChanges.Contains(target.Name, StringComparer.Ordinal));
}
