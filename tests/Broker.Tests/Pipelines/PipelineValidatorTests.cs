using System.Text.Json.Nodes;
using OnDemand.Grains.Pipelines;
using Xunit;

namespace OnDemand.Tests.Pipelines;

public sealed class PipelineValidatorTests
{
    /// <summary>A small but complete config: custom types, every nesting construct, passed constraints, groups.</summary>
    private const string GoodConfig =
        """
        {
          "meta": {"ignored": true},
          "resource_types": [
            {"name": "bosh-deployment", "type": "registry-image", "source": {"repository": "cloudfoundry/bosh-deployment-resource"}},
            {"name": "slack-notification", "type": "registry-image", "source": {"repository": "cfcommunity/slack-notification-resource"}}
          ],
          "resources": [
            {"name": "release", "type": "git", "source": {"uri": "https://example.com/release.git"}},
            {"name": "deployment", "type": "bosh-deployment", "source": {}},
            {"name": "notify", "type": "slack-notification", "source": {}},
            {"name": "nightly", "type": "time", "source": {"interval": "24h"}}
          ],
          "jobs": [
            {
              "name": "deploy",
              "plan": [
                {"in_parallel": [{"get": "release"}, {"get": "nightly"}]},
                {"do": [{"put": "deployment", "params": {"manifest": "release/manifest.yml"}}]},
                {"try": {"get": "src", "resource": "release"}},
                {"task": "noop", "config": {"platform": "linux"}, "across": [{"var": "v", "values": [1, 2]}]}
              ],
              "on_failure": {"put": "notify", "params": {"text": "failed"}}
            },
            {
              "name": "delete",
              "plan": [
                {"get": "release", "passed": ["deploy"]},
                {"put": "deployment", "params": {"delete": {"enabled": true}}}
              ]
            }
          ],
          "groups": [{"name": "lifecycle", "jobs": ["deploy", "delete"]}]
        }
        """;

    private static IReadOnlyList<string> Validate(string json) => PipelineValidator.Validate(JsonNode.Parse(json)!);

    /// <summary>The good config with one job's plan replaced, so each case isolates one rule.</summary>
    private static IReadOnlyList<string> ValidateWithDeployPlan(string planJson)
    {
        var config = JsonNode.Parse(GoodConfig)!;
        config["jobs"]![0]!["plan"] = JsonNode.Parse(planJson);
        return PipelineValidator.Validate(config);
    }

    private static IReadOnlyList<string> ValidateEdited(Action<JsonObject> edit)
    {
        var config = JsonNode.Parse(GoodConfig)!.AsObject();
        edit(config);
        return PipelineValidator.Validate(config);
    }

    [Fact]
    public void A_complete_config_has_no_errors()
    {
        Assert.Empty(Validate(GoodConfig));
    }

    [Fact]
    public void An_unknown_step_field_is_an_error_worded_as_concourse_words_it()
    {
        var errors = ValidateWithDeployPlan("""[{"get": "release", "trigger": true, "get_parms": {}, "bogus": 1}, {"get": "nightly"}]""");

        Assert.Equal(["jobs.deploy.plan.do[0]: unknown fields [\"get_parms\" \"bogus\"]"], errors);
    }

    [Fact]
    public void Every_field_concourse_knows_for_a_step_and_its_modifiers_is_accepted()
    {
        var errors = ValidateWithDeployPlan("""
            [
              {"get": "release", "resource": "release", "version": "every", "params": {}, "passed": [], "trigger": false, "tags": [], "timeout": "1m", "attempts": 2},
              {"get": "nightly"},
              {"put": "deployment", "resource": "deployment", "params": {}, "inputs": "detect", "tags": [], "get_params": {}, "timeout": "1h", "no_get": true, "ensure": {"put": "notify", "timeout": "1m"}},
              {"task": "t", "privileged": false, "hermetic": false, "file": "release/t.yml", "container_limits": {}, "params": {}, "vars": {}, "tags": [], "input_mapping": {}, "output_mapping": {}, "image": "img", "timeout": "1m"},
              {"load_var": "v", "file": "release/v", "format": "raw", "reveal": false},
              {"set_pipeline": "self", "file": "release/p.yml", "team": "main", "vars": {}, "var_files": [], "instance_vars": {}},
              {"in_parallel": {"steps": [{"try": {"get": "release"}}], "limit": 1, "fail_fast": true}}
            ]
            """);

        Assert.Empty(errors);
    }

    [Fact]
    public void An_unknown_resource_type_resource_job_or_group_field_is_an_error()
    {
        var errors = ValidateEdited(config =>
        {
            config["resources"]![0]!["check_evry"] = "1h";
            config["resource_types"]![0]!["tag"] = "latest";
            config["jobs"]![1]!["serail"] = true;
            config["groups"]![0]!["job"] = "deploy";
        });

        Assert.Equal(
        [
            "resource_types.bosh-deployment: unknown field \"tag\"", "resources.release: unknown field \"check_evry\"",
            "jobs.delete: unknown field \"serail\"", "groups.lifecycle: unknown field \"job\"",
        ], errors);
    }

    [Fact]
    public void Job_names_are_listed_in_order()
    {
        Assert.Equal(new[] { "deploy", "delete" }, PipelineValidator.JobNames(JsonNode.Parse(GoodConfig)!));
        Assert.Empty(PipelineValidator.JobNames(JsonNode.Parse("""{"jobs": "nope"}""")!));
    }

    [Theory]
    [InlineData("""{"resources": []}""")]
    [InlineData("""{"jobs": []}""")]
    public void A_pipeline_needs_at_least_one_job(string json)
    {
        Assert.Contains("jobs: pipeline must contain at least one job", Validate(json));
    }

    [Fact]
    public void A_config_that_is_not_a_map_is_refused()
    {
        Assert.Equal(new[] { "pipeline config must be a map" }, Validate("[]"));
    }

    [Fact]
    public void A_job_needs_a_name()
    {
        var errors = ValidateEdited(c => c["jobs"]!.AsArray().Add(JsonNode.Parse("""{"plan": [{"get": "release"}]}""")));

        Assert.Equal(new[] { "jobs[2] has no name" }, errors);
    }

    [Fact]
    public void A_job_needs_a_plan()
    {
        var errors = ValidateEdited(c => c["jobs"]![1]!.AsObject().Remove("plan"));

        Assert.Contains("jobs.delete has no plan", errors);
    }

    [Fact]
    public void A_job_with_an_empty_plan_is_refused()
    {
        Assert.Contains("jobs.deploy has no plan", ValidateWithDeployPlan("[]"));
    }

    [Theory]
    [InlineData("jobs", """{"name": "deploy", "plan": [{"get": "release"}]}""", "jobs[0] and jobs[2] have the same name ('deploy')")]
    [InlineData("resources", """{"name": "release", "type": "git"}""", "resources[0] and resources[4] have the same name ('release')")]
    [InlineData("resource_types", """{"name": "bosh-deployment", "type": "registry-image"}""",
        "resource_types[0] and resource_types[2] have the same name ('bosh-deployment')")]
    [InlineData("groups", """{"name": "lifecycle", "jobs": ["deploy"]}""", "group 'lifecycle' appears 2 times. Duplicate names are not allowed.")]
    public void Duplicate_names_are_refused(string section, string duplicateJson, string expected)
    {
        var errors = ValidateEdited(c => c[section]!.AsArray().Add(JsonNode.Parse(duplicateJson)));

        Assert.Contains(expected, errors);
    }

    [Fact]
    public void A_resource_needs_a_type()
    {
        var errors = ValidateEdited(c => c["resources"]![0]!.AsObject().Remove("type"));

        Assert.Equal(new[] { "resources.release has no type" }, errors);
    }

    [Fact]
    public void A_resource_type_needs_a_type()
    {
        var errors = ValidateEdited(c => c["resource_types"]![0]!.AsObject().Remove("type"));

        Assert.Equal(new[] { "resource_types.bosh-deployment has no type" }, errors);
    }

    [Fact]
    public void A_resource_type_must_be_core_or_declared()
    {
        var errors = ValidateEdited(c => c["resource_types"]!.AsArray().RemoveAt(0));

        Assert.Equal(new[] { "resources.deployment has unknown type 'bosh-deployment'" }, errors);
    }

    [Theory]
    [InlineData("""[{"get": "missing"}]""", "jobs.deploy.plan.do[0].get(missing): unknown resource 'missing'")]
    [InlineData("""[{"put": "missing"}]""", "jobs.deploy.plan.do[0].put(missing): unknown resource 'missing'")]
    [InlineData("""[{"get": "src", "resource": "missing"}]""", "jobs.deploy.plan.do[0].get(src): unknown resource 'missing'")]
    [InlineData("""[{"put": "out", "resource": "missing"}]""", "jobs.deploy.plan.do[0].put(out): unknown resource 'missing'")]
    [InlineData("""[{"do": [{"get": "release"}, {"get": "missing"}]}]""", "jobs.deploy.plan.do[0].do[1].get(missing): unknown resource 'missing'")]
    [InlineData("""[{"in_parallel": [{"get": "missing"}]}]""", "jobs.deploy.plan.do[0].in_parallel.steps[0].get(missing): unknown resource 'missing'")]
    [InlineData("""[{"in_parallel": {"limit": 1, "steps": [{"put": "missing"}]}}]""",
        "jobs.deploy.plan.do[0].in_parallel.steps[0].put(missing): unknown resource 'missing'")]
    [InlineData("""[{"try": {"get": "missing"}}]""", "jobs.deploy.plan.do[0].try.get(missing): unknown resource 'missing'")]
    [InlineData("""[{"get": "release", "on_success": {"put": "missing"}}]""", "jobs.deploy.plan.do[0].on_success.put(missing): unknown resource 'missing'")]
    [InlineData("""[{"get": "release", "on_failure": {"put": "missing"}}]""", "jobs.deploy.plan.do[0].on_failure.put(missing): unknown resource 'missing'")]
    [InlineData("""[{"get": "release", "on_error": {"put": "missing"}}]""", "jobs.deploy.plan.do[0].on_error.put(missing): unknown resource 'missing'")]
    [InlineData("""[{"get": "release", "on_abort": {"put": "missing"}}]""", "jobs.deploy.plan.do[0].on_abort.put(missing): unknown resource 'missing'")]
    [InlineData("""[{"get": "release", "ensure": {"put": "missing"}}]""", "jobs.deploy.plan.do[0].ensure.put(missing): unknown resource 'missing'")]
    [InlineData("""[{"get": "missing", "across": [{"var": "v", "values": [1]}]}]""",
        "jobs.deploy.plan.do[0].across.get(missing): unknown resource 'missing'")]
    [InlineData("""[{"do": [{"try": {"in_parallel": [{"get": "release", "ensure": {"get": "missing"}}]}}]}]""",
        "jobs.deploy.plan.do[0].do[0].try.in_parallel.steps[0].ensure.get(missing): unknown resource 'missing'")]
    public void Steps_at_any_depth_must_reference_declared_resources(string planJson, string expected)
    {
        var errors = ValidateWithDeployPlan(planJson);

        Assert.Contains(expected, errors);
    }

    [Fact]
    public void Job_level_hooks_must_reference_declared_resources()
    {
        var errors = ValidateEdited(c => c["jobs"]![0]!["on_failure"] = JsonNode.Parse("""{"put": "missing"}"""));

        Assert.Equal(new[] { "jobs.deploy.plan.on_failure.put(missing): unknown resource 'missing'", "resource 'notify' is not used" }, errors);
    }

    [Fact]
    public void Passed_must_name_a_known_job()
    {
        var errors = ValidateEdited(c => c["jobs"]![1]!["plan"]![0]!["passed"] = new JsonArray("deploy", "nope"));

        Assert.Equal(new[] { "jobs.delete.plan.do[0].get(release).passed: unknown job 'nope'" }, errors);
    }

    [Fact]
    public void Passed_must_name_a_job_that_uses_the_resource()
    {
        var errors = ValidateEdited(c => c["jobs"]![0]!["plan"] = JsonNode.Parse("""[{"get": "nightly"}, {"put": "deployment"}]"""));

        Assert.Equal(new[] { "jobs.delete.plan.do[0].get(release).passed: job 'deploy' does not interact with resource 'release'" }, errors);
    }

    [Fact]
    public void A_declared_resource_must_be_used()
    {
        var errors = ValidateEdited(c => c["resources"]!.AsArray().Add(JsonNode.Parse("""{"name": "idle", "type": "time"}""")));

        Assert.Equal(new[] { "resource 'idle' is not used" }, errors);
    }

    [Fact]
    public void A_resource_used_only_in_a_nested_hook_counts_as_used()
    {
        var errors = ValidateEdited(c =>
        {
            c["jobs"]![0]!.AsObject().Remove("on_failure");
            c["jobs"]![0]!["plan"] = JsonNode.Parse("""[{"get": "release"}, {"get": "nightly", "ensure": {"try": {"put": "notify"}}}]""");
        });

        Assert.Empty(errors);
    }

    [Fact]
    public void With_groups_every_job_must_be_in_one()
    {
        var errors = ValidateEdited(c => c["groups"]![0]!["jobs"] = new JsonArray("deploy"));

        Assert.Equal(new[] { "job 'delete' belongs to no group" }, errors);
    }

    [Fact]
    public void A_group_may_only_name_known_jobs()
    {
        var errors = ValidateEdited(c => c["groups"]![0]!["jobs"]!.AsArray().Add("ghost"));

        Assert.Equal(new[] { "group 'lifecycle' has unknown job 'ghost'" }, errors);
    }

    [Fact]
    public void Without_groups_jobs_need_no_group()
    {
        Assert.Empty(ValidateEdited(c => c.Remove("groups")));
    }

    [Fact]
    public void A_step_needs_exactly_one_step_type()
    {
        Assert.Contains("jobs.deploy.plan.do[0]: no core step type declared (e.g. get, put, task, etc.)",
            ValidateWithDeployPlan("""[{"params": {}}, {"get": "release"}, {"get": "nightly"}, {"put": "deployment"}]"""));
        Assert.Contains("jobs.deploy.plan.do[0]: multiple step types declared: get, put",
            ValidateWithDeployPlan("""[{"get": "release", "put": "deployment"}, {"get": "nightly"}]"""));
    }

    [Fact]
    public void Names_that_are_not_strings_are_reported()
    {
        var errors = ValidateEdited(c => c["jobs"]![1]!["name"] = 42);

        Assert.Contains("jobs[1].name must be a string", errors);
    }
}
