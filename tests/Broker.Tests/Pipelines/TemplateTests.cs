using System.Text.Json;
using System.Text.Json.Nodes;
using OnDemand.Grains.Pipelines;
using Xunit;

namespace OnDemand.Tests.Pipelines;

/// <summary>The shipped templates render with the variables the broker gives and make pipelines Concourse accepts.</summary>
public sealed class TemplateTests
{
    private static readonly string TemplatesDirectory = FindTemplatesDirectory();

    /// <summary>Only the credential manager knows these; the broker never passes them to the renderer.</summary>
    private static readonly string[] SecretVariables =
        ["admin_password", "admin_username", "bosh_ca_cert", "bosh_client", "bosh_client_secret", "bosh_target", "slack_webhook_url"];

    /// <summary>User tuning parameters per template, with the plan schema's defaults already filled in.</summary>
    private static readonly Dictionary<string, Dictionary<string, JsonNode?>> TuningByTemplate = new()
    {
        ["mysql-cluster.yml"] = new()
        {
            ["innodb_buffer_pool_size"] = "512MB", ["max_connections"] = 750, ["character_set_server"] = "utf8mb4",
        },
        ["postgresql-cluster.yml"] = new()
        {
            ["shared_buffers"] = "256MB", ["max_connections"] = 300, ["work_mem"] = "8MB",
        },
    };

    public static TheoryData<string> Templates => [.. TuningByTemplate.Keys];

    private static string FindTemplatesDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "templates");
            if (File.Exists(Path.Combine(candidate, "mysql-cluster.yml")))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException("templates/ not found above " + AppContext.BaseDirectory);
    }

    /// <summary>What PipelineVariables gives a cluster: broker identity, plan sizing, user tuning.</summary>
    private static Dictionary<string, JsonNode?> VariablesFor(string template, string instanceId = "6f1c2b9e-3d4a-4c8e-9f10-2a3b4c5d6e7f")
    {
        var variables = new Dictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["instance_id"] = instanceId,
            ["deployment_name"] = $"{Path.GetFileNameWithoutExtension(template)}-{instanceId}",
            ["pipeline_name"] = $"ondemand-{instanceId}",
            ["service_name"] = Path.GetFileNameWithoutExtension(template),
            ["plan_name"] = "small",
            ["organization_guid"] = "0d6f6a9a-8a37-4d2b-b4f4-7c3f3d8b1e11",
            ["space_guid"] = "b5e0f0c1-1d4f-4f8e-9a55-43c2b1a0d9e8",
            ["template_version"] = null,
            ["instances"] = 3,
            ["vm_type"] = "default",
            ["persistent_disk_type"] = "10GB",
            ["network"] = "default",
        };
        foreach (var (name, value) in TuningByTemplate[template])
        {
            variables[name] = value?.DeepClone();
        }

        return variables;
    }

    private static RenderedPipeline Render(string template, Dictionary<string, JsonNode?> variables) =>
        new PipelineRenderer().Render(File.ReadAllText(Path.Combine(TemplatesDirectory, template)), variables);

    private static JsonObject Resource(JsonNode config, string name) =>
        config["resources"]!.AsArray().Single(r => (string?)r!["name"] == name)!.AsObject();

    private static JsonObject Job(JsonNode config, string name) =>
        config["jobs"]!.AsArray().Single(j => (string?)j!["name"] == name)!.AsObject();

    private static JsonObject PutStep(JsonObject job, string resource) =>
        job["plan"]!.AsArray().Single(s => (string?)s!["put"] == resource)!.AsObject();

    [Fact]
    public void Every_shipped_template_is_covered_here()
    {
        var shipped = Directory.GetFiles(TemplatesDirectory, "*.yml").Select(Path.GetFileName).Order(StringComparer.Ordinal);

        Assert.Equal(TuningByTemplate.Keys.Order(StringComparer.Ordinal), shipped);
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Renders_a_pipeline_concourse_accepts_leaving_only_secrets_unresolved(string template)
    {
        var rendered = Render(template, VariablesFor(template));
        var config = JsonNode.Parse(rendered.ConfigJson)!;

        Assert.Empty(PipelineValidator.Validate(config));
        Assert.Equal(SecretVariables, rendered.UnresolvedVariables);
        Assert.Contains("deploy", PipelineValidator.JobNames(config));
        Assert.Contains("delete", PipelineValidator.JobNames(config));
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Deploy_passes_typed_sizing_and_tuning_and_runs_smoke_tests_in_the_same_build(string template)
    {
        var variables = VariablesFor(template);
        var config = JsonNode.Parse(Render(template, variables).ConfigJson)!;
        var deploy = Job(config, "deploy");
        var boshVars = PutStep(deploy, "deployment")["params"]!["vars"]!.AsObject();

        Assert.Equal(JsonValueKind.Number, boshVars["instances"]!.GetValueKind());
        Assert.Equal(3, (int)boshVars["instances"]!);
        Assert.Equal(JsonValueKind.Number, boshVars["max_connections"]!.GetValueKind());
        foreach (var (name, value) in TuningByTemplate[template])
        {
            Assert.True(JsonNode.DeepEquals(value, boshVars[name]), $"{name} should be passed to BOSH unchanged");
        }

        Assert.Equal("((admin_password))", (string?)boshVars["admin_password"]);
        Assert.Equal("smoke-tests", (string?)PutStep(deploy, "smoke-tests")["params"]!["name"]);
        Assert.Equal(variables["deployment_name"]!.GetValue<string>(), (string?)Resource(config, "deployment")["source"]!["deployment"]);
        Assert.Contains((string)variables["instance_id"]!, (string?)deploy["on_failure"]!["params"]!["text"]);
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Delete_force_deletes_the_deployment(string template)
    {
        var config = JsonNode.Parse(Render(template, VariablesFor(template)).ConfigJson)!;
        var delete = PutStep(Job(config, "delete"), "deployment");

        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"enabled":true,"force":true}"""), delete["params"]!["delete"]));
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Secrets_stay_credential_references_and_never_appear_in_the_config(string template)
    {
        // Canary values standing in for the credential manager's content: none may show up in what the broker sends.
        var credentialStore = SecretVariables.ToDictionary(name => name, name => $"canary-{name}-7Hq2");
        var rendered = Render(template, VariablesFor(template));
        var config = JsonNode.Parse(rendered.ConfigJson)!;

        Assert.All(credentialStore.Values, canary => Assert.DoesNotContain(canary, rendered.ConfigJson));
        Assert.All(SecretVariables, name => Assert.Contains($"(({name}))", rendered.ConfigJson));
        var boshSource = Resource(config, "deployment")["source"]!;
        Assert.Equal("((bosh_client_secret))", (string?)boshSource["client_secret"]);
        Assert.Equal("((bosh_ca_cert))", (string?)boshSource["ca_cert"]);
        Assert.True(JsonNode.DeepEquals(boshSource, Resource(config, "smoke-tests")["source"]), "both BOSH resources share the anchored source");
        Assert.Equal("((slack_webhook_url))", (string?)Resource(config, "notify")["source"]!["url"]);
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void A_tuning_parameter_cannot_pull_a_secret_into_the_config(string template)
    {
        var variables = VariablesFor(template);
        variables[TuningByTemplate[template].Keys.First()] = "((bosh_client_secret))";

        var e = Assert.Throws<PipelineRenderException>(() => Render(template, variables));

        Assert.Contains("may not contain '(('", e.Message);
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void A_hostile_instance_id_stays_inert_text(string template)
    {
        const string hostile = "x\"\n  evil: true\n$(reboot) `id` ${HOME} <<: *a";
        var config = JsonNode.Parse(Render(template, VariablesFor(template, hostile)).ConfigJson)!;

        Assert.Empty(PipelineValidator.Validate(config));
        Assert.Contains(hostile, (string?)Job(config, "deploy")["on_failure"]!["params"]!["text"]);
        Assert.Null(Job(config, "deploy")["evil"]);
    }
}
