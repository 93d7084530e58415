using System.Security.Cryptography;
using System.Text;
using OnDemand.Grains.Interfaces.Fleet;

namespace OnDemand.Grains.Fleet;

/// <summary>Pure orphan rules: which pipeline is the broker's, which instance needs one, what a listing's token is.</summary>
public static class OrphanDecisions
{
    public const string Prefix = "ondemand-";

    /// <summary>The instance id a broker pipeline name stands for (Pipelines.PipelineVariables.PipelineName), or null.</summary>
    public static string? InstanceIdOf(string pipeline) =>
        pipeline.StartsWith(Prefix, StringComparison.Ordinal) && pipeline.Length > Prefix.Length ? pipeline[Prefix.Length..] : null;

    /// <summary>A live cluster whose pipeline must exist: past its first set-pipeline and not a failed create.</summary>
    public static bool NeedsPipeline(ClusterDashboardView view) =>
        view.Status is ClusterStatus.Ready or ClusterStatus.Updating
        || (view.Status is ClusterStatus.Failed && view.Operations.FirstOrDefault()?.Kind != OperationKind.Create);

    public static bool IsLive(ClusterDashboardView? view) => view is not null && view.Status is not (ClusterStatus.None or ClusterStatus.Deleted);

    public static string? Token(IReadOnlyList<string> orphans) => orphans.Count == 0
        ? null
        : Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', orphans.Order(StringComparer.Ordinal)))))[..20];
}
