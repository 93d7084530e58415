using System.Text.Json.Nodes;

namespace OnDemand.Grains.Interfaces.Catalog;

/// <summary>A service of the catalog: its OSB fields and how its clusters are deployed.</summary>
public sealed class ServiceOffering
{
    public required string Id { get; init; }
    public required string Name { get; init; }
    public required string Description { get; init; }
    public bool Bindable { get; init; } = true;
    public bool InstancesRetrievable { get; init; } = true;
    public bool BindingsRetrievable { get; init; } = true;
    public bool AllowContextUpdates { get; init; } = true;
    public bool PlanUpdateable { get; init; } = true;
    public IReadOnlyList<string> Tags { get; init; } = [];
    public JsonObject? Metadata { get; init; }
    public required ClusterPipelineSettings Pipeline { get; init; }
    /// <summary>How databases are created inside this service's clusters; null: database plans are refused.</summary>
    public DatabaseSettings? Databases { get; init; }
    public required IReadOnlyList<ServicePlan> Plans { get; init; }

    public ServicePlan? FindPlan(string planId) => Plans.FirstOrDefault(p => p.Id == planId);
    public ServicePlan? FindPlanByName(string name) => Plans.FirstOrDefault(p => p.Name == name);
}

/// <summary>The Concourse pipeline a cluster of this service gets.</summary>
/// <param name="TemplatePath">YAML template, resolved against the configuration file's folder.</param>
/// <param name="DeployJob">Job triggered to create or update the cluster.</param>
/// <param name="DeleteJob">Job triggered to delete the cluster's deployment before the pipeline is destroyed.</param>
public sealed record ClusterPipelineSettings(string TemplatePath, string DeployJob, string DeleteJob);

/// <summary>How the broker reaches a cluster's admin account to create databases and accounts in it.</summary>
/// <param name="Provisioner">the engine's provisioner, e.g. "postgresql".</param>
/// <param name="AdminHost">host of a cluster's admin endpoint; {deployment_name} and {instance_id} are replaced.</param>
public sealed record DatabaseSettings(string Provisioner, string AdminHost, int AdminPort, string AdminDatabase)
{
    public string HostFor(string instanceId, string deploymentName) =>
        AdminHost.Replace("{instance_id}", instanceId, StringComparison.Ordinal).Replace("{deployment_name}", deploymentName, StringComparison.Ordinal);
}
