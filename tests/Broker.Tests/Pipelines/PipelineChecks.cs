using System.Text.Json.Nodes;
using OnDemand.Grains.Catalog;
using OnDemand.Grains.Interfaces.Catalog;
using OnDemand.Grains.Pipelines.Verification;
using OnDemand.Tests.Infrastructure;

namespace OnDemand.Tests.Pipelines;

/// <summary>The static checker set up for this repository: its working tree is the project source the pipelines get.</summary>
public static class PipelineChecks
{
    public const string ProjectSourceUri = "((ondemand_repository_uri))";

    public static IReadOnlyDictionary<string, JobSpecs> Specs { get; } =
        JobSpecs.LoadDirectory(Path.Combine(RepositoryPaths.Root, "templates", "bosh", "specs"));

    public static BrokerCatalog Catalog { get; } = CatalogLoader.LoadFile(RepositoryPaths.BrokerConfig);

    public static string TemplateTag(ServicePlan plan) => $"pipelines-{plan.MaintenanceInfoVersion}";

    public static PipelineChecker For(ServiceOffering service, ServicePlan plan, string deploymentName, string? templateTag = null) =>
        new(new PipelineChecker.Settings(RepositoryPaths.Root, ProjectSourceUri, templateTag ?? TemplateTag(plan), deploymentName, Specs,
            [service.Pipeline.DeployJob, service.Pipeline.DeleteJob], TimeSpan.FromSeconds(plan.MaximumPollingDuration)));

    /// <summary>
    /// For the emulator's deploy: the deployment is the one the pipeline's bosh-deployment resource names, and the plan
    /// the catalog's strictest cluster plan (the shortest wait; all share one template version).
    /// </summary>
    public static IReadOnlyList<string> CheckDeployable(string configJson)
    {
        var config = JsonNode.Parse(configJson)!;
        var deployment = (config["resources"] as JsonArray ?? []).FirstOrDefault(r => (string?)r?["type"] == "bosh-deployment")?["source"]?["deployment"];
        if (deployment is null) return [];
        var (service, plan) = Catalog.Services.SelectMany(s => s.Plans.Where(p => p.Kind == PlanKind.Cluster).Select(p => (s, p)))
            .MinBy(entry => entry.p.MaximumPollingDuration);
        // The instance's template version is the one its pipeline pins (a test may ship a newer catalog than the
        // repository's); that it follows the catalog is the static checker's business.
        var pinned = (config["resources"] as JsonArray ?? []).Select(r => (string?)r?["source"]?["tag_filter"])
            .FirstOrDefault(tag => tag is not null && System.Text.RegularExpressions.Regex.IsMatch(tag, @"^pipelines-\d+\.\d+\.\d+$"));
        return For(service, plan, (string)deployment!, pinned).Check(config);
    }
}
