using System.Text.Json;
using System.Text.Json.Nodes;
using OnDemand.Grains.Pipelines;
using OnDemand.Grains.Pipelines.Verification;
using Xunit;

namespace OnDemand.Tests.Pipelines;

/// <summary>The shipped templates render with the variables the broker gives and make pipelines Concourse accepts.</summary>
public sealed class TemplateTests
{
    private static readonly string TemplatesDirectory = FindTemplatesDirectory();

    /// <summary>Only the credential manager knows these; the broker never passes them to the renderer.</summary>
    private static readonly string[] SecretVariables =
    [
        "admin_password", "admin_username", "backup_access_key_id", "backup_bucket", "backup_region", "backup_secret_access_key",
        "bosh_ca_cert", "bosh_client", "bosh_client_secret", "bosh_director_name", "bosh_target", "credhub_ca_cert", "credhub_client",
        "credhub_secret", "credhub_server", "image_registry", "ondemand_repository_uri", "slack_webhook_url",
    ];

    /// <summary>A string tuning parameter each template places (through the BOSH vars) into the manifest.</summary>
    private static readonly Dictionary<string, string> StringTuning = new()
    {
        ["mysql-cluster.yml"] = "character_set_server",
        ["postgresql-cluster.yml"] = "shared_buffers",
    };

    /// <summary>User tuning parameters per template, with the plan schema's defaults already filled in.</summary>
    private static readonly Dictionary<string, Dictionary<string, JsonNode?>> TuningByTemplate = new()
    {
        ["mysql-cluster.yml"] = new()
        {
            ["innodb_buffer_pool_size"] = "512MB",
            ["max_connections"] = 750,
            ["character_set_server"] = "utf8mb4",
        },
        ["postgresql-cluster.yml"] = new()
        {
            ["shared_buffers"] = "256MB",
            ["max_connections"] = 300,
            ["work_mem"] = "8MB",
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
            ["template_version"] = "2.0.0",
            ["instances"] = 3,
            ["proxy_instances"] = 2,
            ["azs"] = new JsonArray("z1", "z2"),
            ["vm_type"] = "default",
            ["proxy_vm_type"] = "small",
            ["vm_memory_mb"] = 8192,
            ["persistent_disk_type"] = "10GB",
            ["network"] = "default",
        };
        foreach (var (name, value) in TuningByTemplate[template])
        {
            variables[name] = value?.DeepClone();
        }

        PipelineTuning.Apply(variables); // as PipelineVariables does
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

    /// <summary>The manifest BOSH would deploy: the put's manifest and ops files from this repository, with its vars.</summary>
    private static JsonNode DeployedManifest(JsonObject put)
    {
        var parameters = put["params"]!;
        var root = Path.GetDirectoryName(TemplatesDirectory)!;
        string Read(JsonNode? path) => File.ReadAllText(Path.Combine(root, ((string)path!)["ondemand/".Length..]));
        var manifest = YamlTree.Parse(Read(parameters["manifest"]), "manifest")!;
        foreach (var ops in parameters["ops_files"] as JsonArray ?? []) manifest = BoshOps.Apply(manifest, YamlTree.Parse(Read(ops), "ops"), "ops");
        var result = BoshInterpolation.Interpolate(manifest, parameters["vars"]!.AsObject().ToDictionary(p => p.Key, p => p.Value));
        Assert.Empty(result.Errors);
        return result.Document!;
    }

    private static JsonNode JobProperties(JsonNode manifest, string group, string job) =>
        manifest["instance_groups"]!.AsArray().Single(g => (string?)g!["name"] == group)!["jobs"]!.AsArray()
            .Single(j => (string?)j!["name"] == job)!["properties"]!;

    [Theory]
    [MemberData(nameof(Templates))]
    public void Deploy_puts_sizing_and_tuning_into_the_release_properties_and_smoke_tests_in_the_same_build(string template)
    {
        var variables = VariablesFor(template);
        var config = JsonNode.Parse(Render(template, variables).ConfigJson)!;
        var deploy = Job(config, "deploy");
        var put = PutStep(deploy, "deployment");
        var manifest = DeployedManifest(put);

        Assert.Equal((string)variables["deployment_name"]!, (string?)manifest["name"]);
        Assert.Null(put["params"]!["vars"]!["admin_password"]); // never interpolated client-side
        if (template == "mysql-cluster.yml")
        {
            var pxc = JobProperties(manifest, "mysql", "pxc-mysql");
            Assert.Equal(512L * 1024 * 1024, (long)pxc["engine_config"]!["innodb_buffer_pool_size"]!);
            Assert.Equal(750, (long)pxc["engine_config"]!["max_connections"]!);
            Assert.Equal("((admin_password))", (string?)pxc["admin_password"]); // left for the director's CredHub
            Assert.True((bool)pxc["remote_admin_access"]! && (bool)pxc["tls"]!["required"]!);
            var groups = manifest["instance_groups"]!.AsArray();
            Assert.Equal(3, (long)groups.Single(g => (string?)g!["name"] == "mysql")!["instances"]!);
            Assert.Equal(2, (long)groups.Single(g => (string?)g!["name"] == "proxy")!["instances"]!);
            Assert.Equal(3306, (long)JobProperties(manifest, "proxy", "proxy")["port"]!);
        }
        else
        {
            var databases = JobProperties(manifest, "postgres", "postgres")["databases"]!;
            Assert.Equal("256MB", (string?)databases["additional_config"]!["shared_buffers"]);
            Assert.Equal("8MB", (string?)databases["additional_config"]!["work_mem"]);
            Assert.Equal(300, (long)databases["max_connections"]!);
            Assert.Equal(5432, (long)databases["port"]!);
            Assert.Equal("((admin_username))", (string?)databases["roles"]![0]!["name"]); // resolved by Concourse at run time
            Assert.Equal("((admin_password))", (string?)databases["roles"]![0]!["password"]);
        }
        var steps = deploy["plan"]!.AsArray().Select(s => (string?)s!["task"] ?? (string?)s!["put"] ?? (string?)s!["get"]).ToList();
        Assert.Equal(["ondemand", "prepare-credentials", "deployment", "smoke-test"], steps);
        Assert.Equal(variables["deployment_name"]!.GetValue<string>(), (string?)Resource(config, "deployment")["source"]!["deployment"]);
        Assert.Contains((string)variables["instance_id"]!, (string?)deploy["on_failure"]!["params"]!["text"]);
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void Delete_backs_up_then_deletes_without_force_and_forgets_the_credentials(string template)
    {
        var config = JsonNode.Parse(Render(template, VariablesFor(template)).ConfigJson)!;
        var delete = Job(config, "delete")["plan"]!.AsArray();
        var backup = delete[1]!["do"]!.AsArray().Select(s => (string?)s!["task"] ?? (string?)s!["put"]);

        Assert.Equal(["inspect-deployment", "backup", "backups"], backup);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"enabled":true}"""), delete[2]!["params"]!["delete"]));
        Assert.Equal("remove-credentials", (string?)delete[3]!["task"]);
        var force = PutStep(Job(config, "force-delete"), "deployment");
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse("""{"enabled":true,"force":true}"""), force["params"]!["delete"]));
        var operatorGroup = config["groups"]!.AsArray().Single(g => (string?)g!["name"] == "operator")!;
        Assert.Equal(["force-delete"], operatorGroup["jobs"]!.AsArray().Select(j => (string?)j));
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
        Assert.Equal("((backup_secret_access_key))", (string?)Resource(config, "backups")["source"]!["secret_access_key"]);
        Assert.Equal("((slack_webhook_url))", (string?)Resource(config, "notify")["source"]!["url"]);
    }

    [Theory]
    [MemberData(nameof(Templates))]
    public void A_tuning_parameter_cannot_pull_a_secret_into_the_config(string template)
    {
        var variables = VariablesFor(template);
        variables[StringTuning[template]] = "((bosh_client_secret))";

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
