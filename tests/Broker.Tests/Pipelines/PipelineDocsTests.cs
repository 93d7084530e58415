using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using OnDemand.Grains.Cluster;
using OnDemand.Grains.Interfaces.Catalog;
using OnDemand.Grains.Interfaces.Messages;
using OnDemand.Grains.Pipelines;
using OnDemand.Grains.Pipelines.Verification;
using OnDemand.Tests.Infrastructure;
using Xunit;

namespace OnDemand.Tests.Pipelines;

/// <summary>
/// docs/pipelines.md shows one rendered pipeline and the manifest BOSH receives from it in full; they must be what the
/// broker renders today. To refresh them after a template change: UPDATE_PIPELINE_DOCS=1 and run this test once.
/// </summary>
public sealed class PipelineDocsTests
{
    private const string InstanceId = "6f1c2b9e-3d4a-4c8e-9f10-2a3b4c5d6e7f";
    private static readonly string DocPath = Path.Combine(RepositoryPaths.Root, "docs", "pipelines.md");
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static (string Pipeline, string Manifest) Example()
    {
        var service = PipelineChecks.Catalog.Services.Single(s => s.Name == "mysql-on-demand");
        var plan = service.FindPlanByName("cluster-small")!;
        var context = new InstanceContext("cloudfoundry", "0d6f6a9a-8a37-4d2b-b4f4-7c3f3d8b1e11", "b5e0f0c1-1d4f-4f8e-9a55-43c2b1a0d9e8", null, null, null);
        var vars = PipelineVariables.For(InstanceId, service, plan, new InstanceSpec(service.Id, plan.Id, "{}", plan.MaintenanceInfoVersion), context);
        var template = File.ReadAllText(Path.Combine(Path.GetDirectoryName(RepositoryPaths.BrokerConfig)!, service.Pipeline.TemplatePath));
        var config = JsonNode.Parse(new PipelineRenderer().Render(template, vars).ConfigJson)!;

        var put = config["jobs"]!.AsArray().Single(j => (string?)j!["name"] == "deploy")!["plan"]!.AsArray()
            .Single(s => (string?)s!["put"] == "deployment")!["params"]!;
        var manifest = YamlTree.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, ((string)put["manifest"]!)["ondemand/".Length..])), "manifest")!;
        var interpolated = BoshInterpolation.Interpolate(manifest, put["vars"]!.AsObject().ToDictionary(p => p.Key, p => p.Value));
        Assert.Empty(interpolated.Errors);
        return (config.ToJsonString(Pretty), interpolated.Document!.ToJsonString(Pretty));
    }

    private static string Block(string marker, string body) => $"<!-- {marker} -->\n```json\n{body}\n```\n<!-- /{marker} -->";

    private static string Replace(string doc, string marker, string body)
    {
        var start = doc.IndexOf($"<!-- {marker} -->", StringComparison.Ordinal);
        var end = doc.IndexOf($"<!-- /{marker} -->", StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"docs/pipelines.md has no {marker} block");
        return doc[..start] + Block(marker, body) + doc[(end + $"<!-- /{marker} -->".Length)..];
    }

    [Fact]
    public void The_operator_doc_shows_the_current_rendered_pipeline_and_manifest()
    {
        var (pipeline, manifest) = Example();
        var doc = File.ReadAllText(DocPath).ReplaceLineEndings("\n");
        var expected = Replace(Replace(doc, "rendered-pipeline", pipeline), "deployed-manifest", manifest);
        if (Environment.GetEnvironmentVariable("UPDATE_PIPELINE_DOCS") == "1" && expected != doc)
        {
            File.WriteAllText(DocPath, expected);
        }

        Assert.Equal(expected, doc);
    }
}
