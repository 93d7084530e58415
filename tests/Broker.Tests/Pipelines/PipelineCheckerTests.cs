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
/// The CI gate of issue 8: every cluster plan of config/broker.yml, with default and boundary parameters, renders a
/// pipeline the checker passes; and each defect class the checker exists for is caught.
/// </summary>
public sealed class PipelineCheckerTests
{
    private const string InstanceId = "6f1c2b9e-3d4a-4c8e-9f10-2a3b4c5d6e7f";
    private static readonly InstanceContext Context = new("cloudfoundry", "0d6f6a9a-8a37-4d2b-b4f4-7c3f3d8b1e11", "b5e0f0c1-1d4f-4f8e-9a55-43c2b1a0d9e8", null, null, null);

    private static IEnumerable<(ServiceOffering Service, ServicePlan Plan)> ClusterPlans() =>
        PipelineChecks.Catalog.Services.SelectMany(s => s.Plans.Where(p => p.Kind == PlanKind.Cluster).Select(p => (s, p)));

    /// <summary>Defaults ({}), and the largest values the plan's limits allow.</summary>
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var (_, plan) in ClusterPlans())
        {
            data.Add(plan.Name, "{}");
            data.Add(plan.Name, BoundaryParameters(plan).ToJsonString());
        }
        return data;
    }

    private static JsonObject BoundaryParameters(ServicePlan plan)
    {
        var memory = (long)plan.Vars["vm_memory_mb"]!;
        return plan.CreateSchema!["properties"]!.AsObject().ContainsKey("innodb_buffer_pool_size")
            ? new JsonObject
            {
                ["innodb_buffer_pool_size"] = $"{memory * PipelineTuning.BufferPoolPercent / 100}MB",
                ["max_connections"] = memory / PipelineTuning.MySqlMegabytesPerConnection,
                ["character_set_server"] = "latin1",
            }
            : new JsonObject
            {
                ["shared_buffers"] = $"{memory * PipelineTuning.SharedBuffersPercent / 100}MB",
                ["max_connections"] = 5000,
                ["work_mem"] = $"{memory * 1024 * PipelineTuning.WorkMemTotalPercent / 100 / 5000}kB",
            };
    }

    private static (ServiceOffering Service, ServicePlan Plan) Plan(string name) => ClusterPlans().Single(p => p.Plan.Name == name);

    private static JsonNode Render(ServiceOffering service, ServicePlan plan, string parametersJson = "{}")
    {
        var vars = PipelineVariables.For(InstanceId, service, plan, new InstanceSpec(service.Id, plan.Id, parametersJson, plan.MaintenanceInfoVersion), Context);
        var template = File.ReadAllText(Path.Combine(Path.GetDirectoryName(RepositoryPaths.BrokerConfig)!, service.Pipeline.TemplatePath));
        return JsonNode.Parse(new PipelineRenderer().Render(template, vars).ConfigJson)!;
    }

    private static IReadOnlyList<string> Check(ServiceOffering service, ServicePlan plan, JsonNode config) =>
        PipelineChecks.For(service, plan, PipelineVariables.DeploymentName(service, InstanceId)).Check(config);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Every_plan_renders_a_pipeline_the_checker_passes(string planName, string parametersJson)
    {
        var (service, plan) = Plan(planName);
        Assert.Empty(Check(service, plan, Render(service, plan, parametersJson)));
    }

    public static TheoryData<string> PlanNames() => [.. ClusterPlans().Select(p => p.Plan.Name)];

    /// <summary>One step past each boundary case above: the broker refuses it before rendering, naming the field.</summary>
    [Theory]
    [MemberData(nameof(PlanNames))]
    public void One_step_past_every_plans_limit_is_refused_naming_the_field(string planName)
    {
        var (service, plan) = Plan(planName);
        var boundary = BoundaryParameters(plan);
        var field = boundary.ContainsKey("innodb_buffer_pool_size") ? "innodb_buffer_pool_size" : "shared_buffers";
        var size = (string)boundary[field]!;
        boundary[field] = $"{int.Parse(size[..^2], System.Globalization.CultureInfo.InvariantCulture) + 1}MB";

        var e = Assert.Throws<PipelineRenderException>(() => Render(service, plan, boundary.ToJsonString()));

        Assert.StartsWith($"parameter '{field}' is {boundary[field]}, above this plan's limit of", e.Message);
    }

    [Fact]
    public void Every_cluster_plan_is_covered_and_states_its_vm_memory()
    {
        var plans = ClusterPlans().ToList();
        Assert.Equal(4, plans.Count);
        Assert.All(plans, p => Assert.True(p.Plan.Vars["vm_memory_mb"] is not null, $"{p.Plan.Name} has no vm_memory_mb"));
    }

    /// <summary>A mutated copy of a good pipeline's deploy put, for the negative tests.</summary>
    private static (IReadOnlyList<string> Errors, JsonNode Config) Mutated(string planName, Action<JsonNode> mutate)
    {
        var (service, plan) = Plan(planName);
        var config = Render(service, plan);
        mutate(config);
        return (Check(service, plan, config), config);
    }

    private static JsonObject DeployPut(JsonNode config) =>
        config["jobs"]!.AsArray().Single(j => (string?)j!["name"] == "deploy")!["plan"]!.AsArray()
            .Single(s => (string?)s!["put"] == "deployment")!["params"]!.AsObject();

    [Fact]
    public void An_unused_var_is_caught()
    {
        var (errors, _) = Mutated("cluster-small", c => DeployPut(c)["vars"]!["innodb_buffer_pool_size"] = "512MB");
        Assert.Contains(errors, e => e.Contains("var 'innodb_buffer_pool_size' is given but the manifest never uses it"));
    }

    [Fact]
    public void A_missing_var_is_caught()
    {
        var (errors, _) = Mutated("pg-cluster-small", c => DeployPut(c)["vars"]!.AsObject().Remove("work_mem"));
        Assert.Contains(errors, e => e.Contains("var 'work_mem' is neither given nor declared"));
    }

    [Fact]
    public void A_manifest_named_other_than_the_deployment_is_caught()
    {
        var (errors, _) = Mutated("cluster-large", c =>
        {
            var put = DeployPut(c);
            put["vars"]!["deployment_name"] = "pxc";
            put["vars"]!["galera_cluster"] = "unused"; // keeps the unused-var check out of the way of the name check
        });
        Assert.Contains(errors, e => e.Contains("manifest name 'pxc' is not the deployment name"));
    }

    [Fact]
    public void An_unknown_property_is_caught_after_the_ops_files_are_applied()
    {
        var (errors, _) = Mutated("cluster-small", c => DeployPut(c)["ops_files"] = new JsonArray("ondemand/tests/Broker.Tests/Pipelines/TestData/unknown-property.yml"));
        Assert.Equal(
            ["jobs.deploy.plan[2].put(deployment): ondemand/templates/bosh/mysql.yml: instance_groups/mysql/jobs/pxc-mysql/properties: property 'engine_config.innodb_buffer_pool_size_gb' is not in the job spec of pxc 2.0.5"],
            errors);
    }

    [Fact]
    public void A_job_the_release_does_not_have_is_caught()
    {
        // The errand the old PostgreSQL template ran: postgres-release has no smoke-tests job.
        var manifest = YamlTree.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "templates/bosh/postgresql.yml")), "postgresql.yml")!;
        manifest["instance_groups"]![0]!["jobs"]!.AsArray().Add(new JsonObject { ["name"] = "smoke-tests", ["release"] = "postgres" });
        var errors = JobSpecs.Check(manifest, PipelineChecks.Specs);
        Assert.Equal(["instance_groups/postgres/jobs/smoke-tests: release postgres 56.0.1 has no job 'smoke-tests' (kept jobs: postgres)"], errors);
    }

    [Fact]
    public void A_missing_file_is_caught()
    {
        // The ops files the old template named: they exist in no pxc-release tag.
        var (errors, _) = Mutated("pg-cluster-large", c => DeployPut(c)["ops_files"] = new JsonArray("ondemand/templates/bosh/operations/update-vm-type.yml"));
        Assert.Contains(errors, e => e.Contains("'templates/bosh/operations/update-vm-type.yml' does not exist in ondemand"));
    }

    [Fact]
    public void A_file_from_a_source_without_a_listing_is_caught()
    {
        var (errors, _) = Mutated("cluster-small", c => DeployPut(c)["manifest"] = "pxc-release/pxc-deployment.yml");
        Assert.Contains(errors, e => e.Contains("'pxc-release/pxc-deployment.yml' is not in the project's source"));
    }

    [Fact]
    public void An_unknown_step_field_is_caught()
    {
        var (errors, _) = Mutated("cluster-small", c =>
            c["jobs"]!.AsArray().Single(j => (string?)j!["name"] == "deploy")!["plan"]!.AsArray()
                .Single(s => (string?)s!["put"] == "deployment")!["get_parms"] = new JsonObject());
        Assert.Contains(errors, e => e.EndsWith(": unknown fields [\"get_parms\"]"));
    }

    [Fact]
    public void A_put_param_the_resource_would_ignore_is_caught()
    {
        var (errors, _) = Mutated("cluster-small", c => DeployPut(c)["opsfiles"] = new JsonArray());
        Assert.Contains(errors, e => e.EndsWith(": bosh-deployment-resource has no put param 'opsfiles' (it would be ignored)"));
    }

    [Fact]
    public void Timeouts_adding_up_past_the_brokers_wait_are_caught()
    {
        var (errors, _) = Mutated("cluster-small", c =>
            c["jobs"]!.AsArray().Single(j => (string?)j!["name"] == "deploy")!["plan"]!.AsArray()
                .Single(s => (string?)s!["put"] == "deployment")!["timeout"] = "3h");
        Assert.Contains("jobs.deploy: its step timeouts add up to 03:20:00, longer than the broker waits (02:00:00)", errors);
    }

    [Theory]
    [InlineData("1h30m", 90 * 60)]
    [InlineData("100m", 100 * 60)]
    [InlineData("45s", 45)]
    [InlineData("1.5h", 90 * 60)]
    public void Go_durations_are_read(string text, int seconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(seconds), StepTimeouts.Parse(text));
    }

    [Fact]
    public void A_task_script_that_is_not_executable_is_caught()
    {
        if (OperatingSystem.IsWindows()) return; // no Unix file modes to check
        var (errors, _) = Mutated("cluster-small", c =>
            c["jobs"]!.AsArray().Single(j => (string?)j!["name"] == "deploy")!["plan"]!.AsArray()
                .Single(s => (string?)s!["task"] == "smoke-test")!["config"]!["run"]!["path"] = "ondemand/tests/Broker.Tests/Pipelines/TestData/unknown-property.yml");
        Assert.Contains(errors, e => e.EndsWith("'ondemand/tests/Broker.Tests/Pipelines/TestData/unknown-property.yml' is not executable (Concourse runs it directly)"));
    }

    [Fact]
    public void A_latest_image_is_caught()
    {
        var (errors, _) = Mutated("pg-cluster-small", c => c["resource_types"]![0]!["source"]!["tag"] = "latest");
        Assert.Contains(errors, e => e.Contains("resource_types.bosh-deployment: image") && e.Contains("is not pinned (tag 'latest')"));
    }

    [Fact]
    public void A_floating_template_tag_is_caught()
    {
        var (errors, _) = Mutated("cluster-large", c =>
            c["resources"]!.AsArray().Single(r => (string?)r!["name"] == "ondemand")!["source"]!["tag_filter"] = "v*");
        Assert.Contains(errors, e => e.Contains("tag_filter 'v*' does not pin the template version's tag 'pipelines-2.0.0'"));
    }

    [Fact]
    public void Cleanup_force_and_missing_timeouts_are_caught()
    {
        var (errors, _) = Mutated("cluster-small", c =>
        {
            DeployPut(c)["cleanup"] = true;
            var delete = c["jobs"]!.AsArray().Single(j => (string?)j!["name"] == "delete")!["plan"]!.AsArray()
                .Single(s => (string?)s!["put"] == "deployment")!.AsObject();
            delete["params"]!["delete"]!["force"] = true;
            delete.Remove("timeout");
        });
        Assert.Contains(errors, e => e.Contains("cleanup: true"));
        Assert.Contains(errors, e => e.StartsWith("jobs.delete.") && e.Contains("only the operator's force-delete job may force"));
        Assert.Contains(errors, e => e.StartsWith("jobs.delete.") && e.EndsWith(": no timeout"));
    }

    [Fact]
    public void A_latest_release_in_the_manifest_is_caught()
    {
        var manifest = YamlTree.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "templates/bosh/postgresql.yml")), "postgresql.yml")!;
        manifest["releases"]![0]!["version"] = "latest";
        var errors = JobSpecs.Check(manifest, PipelineChecks.Specs);
        Assert.Contains("release 'postgres' is version 'latest' but the kept job specs are of version 56.0.1", errors);
    }
}
