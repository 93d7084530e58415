using System.Text.Json;
using System.Text.Json.Nodes;

namespace OnDemand.Grains.Pipelines.Verification;

/// <summary>
/// Static verification of a rendered cluster pipeline against what BOSH and Concourse would do with it, since neither
/// can run here: Concourse's own checks (<see cref="PipelineValidator"/>, unknown fields included); a timeout on every
/// step, those of the broker's jobs adding up to no more than it waits; put params the resource knows; nothing unpinned (no `latest`, no floating tag filter); no `cleanup: true`, no `force` outside the operator's
/// force-delete job; every file a step names exists in the project source it comes from (scripts executable); and for
/// each BOSH deploy:
/// the manifest plus ops files (BOSH ops semantics), interpolated strictly with the put's vars (no missing, no unused),
/// named as the deployment, its releases pinned (version, url, sha1) to the versions whose job specs are kept, and every
/// property path in those specs.
/// </summary>
public sealed class PipelineChecker(PipelineChecker.Settings settings)
{
    /// <param name="RepositoryRoot">the project's working tree: the files the project source resource holds.</param>
    /// <param name="ProjectSourceUri">the `uri` of the git resource that is the project's repository.</param>
    /// <param name="TemplateTag">the tag the project source must be pinned to (follows maintenance_info).</param>
    /// <param name="DeploymentName">the deployment the pipeline is for.</param>
    /// <param name="Specs">kept job specs by release name.</param>
    /// <param name="BrokerJobs">the jobs the broker triggers and waits for (the catalog's deploy_job and delete_job).</param>
    /// <param name="BrokerDeadline">how long the broker waits for one of them (the plan's maximum_polling_duration).</param>
    public sealed record Settings(
        string RepositoryRoot, string ProjectSourceUri, string TemplateTag, string DeploymentName, IReadOnlyDictionary<string, JobSpecs> Specs,
        IReadOnlyCollection<string> BrokerJobs, TimeSpan BrokerDeadline);

    public const string ForceDeleteJob = "force-delete";

    /// <summary>
    /// The put params of cloudfoundry/bosh-deployment-resource v2.14.0 (concourse/out_params.go, plus source_file from
    /// its README). The resource's JSON decoding ignores anything else, so a misspelt param would silently do nothing.
    /// </summary>
    private static readonly HashSet<string> BoshDeploymentPutParams = new(StringComparer.Ordinal)
    {
        "manifest", "no_redact", "dry_run", "max_in_flight", "recreate", "skip_drain", "cleanup", "fix", "releases", "stemcells",
        "vars", "vars_files", "var_files", "ops_files", "bosh_io_stemcell_type", "delete", "source_file",
    };
    private static readonly string[] CoreSteps = ["get", "put", "task", "set_pipeline", "load_var", "run"];
    private static readonly string[] Nested = ["do", "in_parallel", "steps", "try", "on_success", "on_failure", "on_error", "on_abort", "ensure"];

    public IReadOnlyList<string> Check(JsonNode pipeline)
    {
        ArgumentNullException.ThrowIfNull(pipeline);
        var errors = new List<string>(PipelineValidator.Validate(pipeline));
        var resources = ((pipeline["resources"] as JsonArray) ?? []).OfType<JsonObject>()
            .GroupBy(r => (string?)r["name"] ?? "", StringComparer.Ordinal) // duplicates are the validator's error
            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        var resourceTypes = ((pipeline["resource_types"] as JsonArray) ?? []).OfType<JsonObject>().ToList();

        foreach (var type in resourceTypes) CheckImage(type, $"resource_types.{(string?)type["name"]}", errors);
        foreach (var (name, resource) in resources)
        {
            if ((string?)resource["type"] is "registry-image" or "docker-image") CheckImage(resource, $"resources.{name}", errors);
            if ((string?)resource["type"] == "git") CheckGit(resource, name, errors);
        }

        foreach (var job in ((pipeline["jobs"] as JsonArray) ?? []).OfType<JsonObject>())
        {
            var jobName = (string?)job["name"] ?? "?";
            if (settings.BrokerJobs.Contains(jobName) && StepTimeouts.Longest(job["plan"]) is { } longest && longest > settings.BrokerDeadline)
            {
                errors.Add($"jobs.{jobName}: its step timeouts add up to {longest}, longer than the broker waits ({settings.BrokerDeadline})");
            }
            foreach (var (step, where) in Steps(job, $"jobs.{jobName}"))
            {
                CheckStep(step, where, jobName, resources, errors);
            }
        }
        return errors;
    }

    /// <summary>Every step of a job, hooks and nested steps included, with a Concourse-like location.</summary>
    private static IEnumerable<(JsonObject Step, string Where)> Steps(JsonObject job, string where)
    {
        var pending = new Stack<(JsonNode? Node, string Where)>();
        pending.Push((job["plan"], where + ".plan"));
        foreach (var hook in new[] { "on_success", "on_failure", "on_error", "on_abort", "ensure" }) pending.Push((job[hook], $"{where}.{hook}"));
        while (pending.Count > 0)
        {
            var (node, at) = pending.Pop();
            switch (node)
            {
                case JsonArray list:
                    for (var i = list.Count - 1; i >= 0; i--) pending.Push((list[i], $"{at}[{i}]"));
                    break;
                case JsonObject step:
                    if (CoreSteps.Any(step.ContainsKey)) yield return (step, at);
                    foreach (var key in Nested.Where(step.ContainsKey)) pending.Push((step[key], $"{at}.{key}"));
                    break;
            }
        }
    }

    private void CheckStep(JsonObject step, string where, string job, Dictionary<string, JsonObject> resources, List<string> errors)
    {
        var kind = CoreSteps.First(step.ContainsKey);
        where = $"{where}.{kind}({step[kind]})";
        if (step["timeout"] is null) errors.Add($"{where}: no timeout");
        if (kind == "task")
        {
            if (step["config"] is JsonObject config)
            {
                if (config["image_resource"] is JsonObject image) CheckImage(image, where + ".config.image_resource", errors);
                if ((string?)config["run"]?["path"] is { } path && path.Contains('/', StringComparison.Ordinal)
                    && CheckFile(path, where + ".config.run.path", resources, errors) is { } script
                    && !OperatingSystem.IsWindows() && (File.GetUnixFileMode(script) & UnixFileMode.UserExecute) == 0)
                {
                    errors.Add($"{where}.config.run.path: '{path}' is not executable (Concourse runs it directly)");
                }
            }
            if ((string?)step["file"] is { } file) CheckFile(file, where + ".file", resources, errors);
        }
        if (kind != "put") return;
        var resourceName = (string?)step["resource"] ?? (string?)step["put"] ?? "";
        if (!resources.TryGetValue(resourceName, out var resource) || (string?)resource["type"] != "bosh-deployment") return;
        var parameters = step["params"] as JsonObject ?? [];
        foreach (var unknown in parameters.Select(p => p.Key).Where(key => !BoshDeploymentPutParams.Contains(key)))
        {
            errors.Add($"{where}: bosh-deployment-resource has no put param '{unknown}' (it would be ignored)");
        }
        if (parameters["delete"] is JsonObject deleteParams)
        {
            foreach (var unknown in deleteParams.Select(p => p.Key).Where(key => key is not ("enabled" or "force")))
            {
                errors.Add($"{where}: bosh-deployment-resource has no put param 'delete.{unknown}' (it would be ignored)");
            }
        }
        if (parameters["cleanup"] is JsonValue cleanup && cleanup.GetValueKind() == JsonValueKind.True)
        {
            errors.Add($"{where}: cleanup: true runs a director-wide `bosh clean-up` from a tenant pipeline");
        }
        if (parameters["delete"]?["force"] is JsonValue force && force.GetValueKind() == JsonValueKind.True && job != ForceDeleteJob)
        {
            errors.Add($"{where}: delete.force ignores drain and director errors; only the operator's {ForceDeleteJob} job may force");
        }
        if ((string?)resource["source"]?["deployment"] != settings.DeploymentName)
        {
            errors.Add($"{where}: resource {resourceName} deploys '{resource["source"]?["deployment"]}', not '{settings.DeploymentName}'");
        }
        if ((string?)parameters["manifest"] is { } manifest) CheckDeploy(parameters, manifest, where, resources, errors);
    }

    private void CheckDeploy(JsonObject parameters, string manifestPath, string where, Dictionary<string, JsonObject> resources, List<string> errors)
    {
        var manifestFile = CheckFile(manifestPath, where + ".params.manifest", resources, errors);
        if (manifestFile is null) return;
        try
        {
            var manifest = YamlTree.Parse(File.ReadAllText(manifestFile), manifestPath)
                ?? throw new InvalidOperationException($"{manifestPath} is empty");
            foreach (var ops in (parameters["ops_files"] as JsonArray ?? []).Select(o => (string?)o ?? ""))
            {
                var opsFile = CheckFile(ops, where + ".params.ops_files", resources, errors);
                if (opsFile is null) return;
                manifest = BoshOps.Apply(manifest, YamlTree.Parse(File.ReadAllText(opsFile), ops), ops);
            }
            var vars = new Dictionary<string, JsonNode?>(StringComparer.Ordinal);
            foreach (var (name, value) in parameters["vars"] as JsonObject ?? []) vars[name] = value;
            var result = BoshInterpolation.Interpolate(manifest, vars);
            errors.AddRange(result.Errors.Select(e => $"{where}: {manifestPath}: {e}"));
            var interpolated = result.Document!;
            if ((string?)interpolated["name"] != settings.DeploymentName)
            {
                errors.Add($"{where}: {manifestPath}: manifest name '{interpolated["name"]}' is not the deployment name '{settings.DeploymentName}' (the BOSH CLI refuses it)");
            }
            CheckPinnedManifest(interpolated, parameters, $"{where}: {manifestPath}", errors);
            errors.AddRange(JobSpecs.Check(interpolated, settings.Specs).Select(e => $"{where}: {manifestPath}: {e}"));
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or IOException)
        {
            errors.Add($"{where}: {e.Message}");
        }
    }

    private static void CheckPinnedManifest(JsonNode manifest, JsonObject parameters, string where, List<string> errors)
    {
        var uploadsReleases = parameters["releases"] is JsonArray { Count: > 0 };
        foreach (var release in (manifest["releases"] as JsonArray) ?? [])
        {
            var version = release?["version"]?.ToString();
            if (version is null or "latest") errors.Add($"{where}: release '{release?["name"]}' is not pinned (version '{version ?? "none"}')");
            if (!uploadsReleases && (release?["url"] is null || release["sha1"] is null)) errors.Add($"{where}: release '{release?["name"]}' has no url and sha1, and the put uploads no releases");
        }
        var stemcells = (manifest["stemcells"] as JsonArray) ?? [];
        if (stemcells.Count == 0) errors.Add($"{where}: no stemcells");
        foreach (var stemcell in stemcells)
        {
            var version = stemcell?["version"]?.ToString();
            if (version is null or "latest") errors.Add($"{where}: stemcell '{stemcell?["alias"]}' is not pinned (version '{version ?? "none"}')");
        }
        if (stemcells.Count > 0 && parameters["stemcells"] is null && (string?)parameters["bosh_io_stemcell_type"] is not ("regular" or "light"))
        {
            errors.Add($"{where}: the put neither uploads the stemcell (stemcells) nor fetches it from bosh.io (bosh_io_stemcell_type)");
        }
    }

    private static void CheckImage(JsonObject owner, string where, List<string> errors)
    {
        if ((string?)owner["type"] is not ("registry-image" or "docker-image")) return;
        var source = owner["source"] as JsonObject ?? [];
        var tag = (string?)source["tag"];
        if (source["digest"] is null && (tag is null or "latest"))
        {
            errors.Add($"{where}: image {source["repository"]} is not pinned (tag '{tag ?? "latest"}'); use an exact tag or a digest");
        }
    }

    private void CheckGit(JsonObject resource, string name, List<string> errors)
    {
        var source = resource["source"] as JsonObject ?? [];
        if ((string?)source["uri"] != settings.ProjectSourceUri)
        {
            errors.Add($"resources.{name}: git source {source["uri"]} is not the project's ({settings.ProjectSourceUri}); no file listing is kept for it");
        }
        else if ((string?)source["tag_filter"] != settings.TemplateTag)
        {
            errors.Add($"resources.{name}: tag_filter '{source["tag_filter"]}' does not pin the template version's tag '{settings.TemplateTag}'");
        }
    }

    /// <returns>the file on disk, or null (error recorded) when the path names no project source or no such file.</returns>
    private string? CheckFile(string path, string where, Dictionary<string, JsonObject> resources, List<string> errors)
    {
        var slash = path.IndexOf('/', StringComparison.Ordinal);
        var input = slash > 0 ? path[..slash] : "";
        if (!resources.TryGetValue(input, out var resource) || (string?)resource["type"] != "git"
            || (string?)resource["source"]?["uri"] != settings.ProjectSourceUri)
        {
            errors.Add($"{where}: '{path}' is not in the project's source (no file listing is kept for '{input}')");
            return null;
        }
        var relative = path[(slash + 1)..];
        var full = Path.GetFullPath(Path.Combine(settings.RepositoryRoot, relative));
        if (!full.StartsWith(Path.GetFullPath(settings.RepositoryRoot), StringComparison.Ordinal) || relative.Contains("..", StringComparison.Ordinal) || !File.Exists(full))
        {
            errors.Add($"{where}: '{relative}' does not exist in {input} (the project's repository at {settings.TemplateTag})");
            return null;
        }
        return full;
    }
}
