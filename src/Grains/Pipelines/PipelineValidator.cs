using System.Text.Json;
using System.Text.Json.Nodes;

namespace OnDemand.Grains.Pipelines;

/// <summary>
/// Catches, before anything is sent, the pipeline errors Concourse would answer with 400 on `PUT config`, worded
/// the way Concourse words them (atc/configvalidate, atc/step_validator.go) so operators can search for them, including
/// unknown fields of steps, jobs, groups, resources and resource types. It is deliberately not a full schema check:
/// task configs and var_sources stay Concourse's job.
/// </summary>
public static class PipelineValidator
{
    /// <summary>
    /// The resource types Concourse workers ship with. Anything else must be declared under `resource_types`;
    /// Concourse itself would only fail at check time, far from the broker, so the broker fails early instead.
    /// </summary>
    private static readonly HashSet<string> CoreResourceTypes = new(StringComparer.Ordinal)
    {
        "bosh-io-release", "bosh-io-stemcell", "cf", "docker-image", "git", "github-release", "hg", "mock", "pool",
        "registry-image", "s3", "semver", "time", "tracker",
    };

    private static readonly string[] CoreStepKeys =
        ["get", "put", "task", "set_pipeline", "load_var", "in_parallel", "do", "try", "run"];

    /// <summary>
    /// The fields each step type accepts (concourse/concourse v8.2.4 atc/steps.go json tags), plus the modifiers any
    /// step may carry; Concourse answers anything else with `unknown fields [...]` (atc/step_validator.go).
    /// </summary>
    private static readonly Dictionary<string, string[]> StepFields = new(StringComparer.Ordinal)
    {
        ["get"] = ["get", "resource", "version", "params", "passed", "trigger", "tags", "timeout"],
        ["put"] = ["put", "resource", "params", "inputs", "tags", "get_params", "timeout", "no_get"],
        ["task"] = ["task", "privileged", "hermetic", "file", "container_limits", "config", "params", "vars", "tags", "input_mapping", "output_mapping", "image", "timeout"],
        ["run"] = ["run", "type", "params", "privileged", "tags", "container_limits", "timeout"],
        ["set_pipeline"] = ["set_pipeline", "file", "team", "vars", "var_files", "instance_vars"],
        ["load_var"] = ["load_var", "file", "format", "reveal"],
        ["try"] = ["try"],
        ["do"] = ["do"],
        ["in_parallel"] = ["in_parallel"],
    };

    private static readonly string[] ModifierFields =
        ["across", "fail_fast", "attempts", "timeout", "on_success", "on_failure", "on_error", "on_abort", "ensure"];

    /// <summary>Fields of resources and resource types (atc/config.go ResourceConfig, ResourceType).</summary>
    private static readonly HashSet<string> ResourceFields = new(StringComparer.Ordinal)
    {
        "name", "old_name", "public", "webhook_token", "type", "source", "check_every", "check_timeout", "tags", "version", "icon",
        "expose_build_created_by",
    };

    private static readonly HashSet<string> ResourceTypeFields = new(StringComparer.Ordinal)
    {
        "name", "type", "source", "defaults", "privileged", "check_every", "tags", "params",
    };

    /// <summary>Fields of jobs (atc/job_config.go JobConfig) and groups (atc/config.go GroupConfig).</summary>
    private static readonly HashSet<string> JobFields = new(StringComparer.Ordinal)
    {
        "name", "old_name", "public", "disable_manual_trigger", "disable_reruns", "serial", "interruptible", "serial_groups",
        "max_in_flight", "build_logs_to_retain", "build_log_retention", "on_success", "on_failure", "on_abort", "on_error", "ensure",
        "plan",
    };

    private static readonly HashSet<string> GroupFields = new(StringComparer.Ordinal) { "name", "jobs", "resources" };

    // Concourse wraps a step in its hooks in this order, so nested errors come out in this order too.
    private static readonly string[] HookKeys = ["on_success", "on_failure", "on_error", "on_abort", "ensure"];

    /// <returns>Concourse-style error messages; empty when the config is acceptable.</returns>
    public static IReadOnlyList<string> Validate(JsonNode config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config is not JsonObject root)
        {
            return ["pipeline config must be a map"];
        }

        return new Validation(root).Run();
    }

    /// <returns>The names of the config's jobs in declaration order (jobs without a string name are skipped).</returns>
    public static IReadOnlyList<string> JobNames(JsonNode config)
    {
        ArgumentNullException.ThrowIfNull(config);
        return config is JsonObject root
            ? [.. Entries(root, "jobs").Select(entry => StringOf(entry.Node, "name")).OfType<string>()]
            : [];
    }

    private static IEnumerable<(int Index, JsonObject? Node)> Entries(JsonObject root, string section) =>
        root[section] is JsonArray list ? list.Select((node, index) => (index, node as JsonObject)) : [];

    private static string? StringOf(JsonObject? node, string key) =>
        node?[key] is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static IEnumerable<JsonNode?> ListOf(JsonNode? node) => node as JsonArray ?? (IEnumerable<JsonNode?>)[];

    /// <summary>A list entry that should be a name; anything else is shown as JSON so the error still points at it.</summary>
    private static string TextOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String
            ? value.GetValue<string>()
            : node?.ToJsonString() ?? "null";

    private sealed class Validation(JsonObject root)
    {
        private readonly List<string> _errors = [];
        private readonly Dictionary<string, JsonObject> _jobs = new(StringComparer.Ordinal);
        private readonly List<(string Name, JsonObject Node)> _jobsInOrder = [];
        private readonly HashSet<string> _resources = new(StringComparer.Ordinal);
        private readonly List<string> _resourcesInOrder = [];

        public IReadOnlyList<string> Run()
        {
            ValidateSectionShapes();
            var resourceTypes = CollectNames("resource_types", requireType: true);
            ValidateFields("resource_types", ResourceTypeFields);
            ValidateFields("resources", ResourceFields);
            ValidateFields("jobs", JobFields);
            ValidateFields("groups", GroupFields);
            foreach (var (name, node) in CollectNamed("resources", requireType: true))
            {
                _resources.Add(name);
                _resourcesInOrder.Add(name);
                var type = StringOf(node, "type");
                if (type is not null && !CoreResourceTypes.Contains(type) && !resourceTypes.Contains(type))
                {
                    _errors.Add($"resources.{name} has unknown type '{type}'");
                }
            }

            _jobsInOrder.AddRange(CollectNamed("jobs", requireType: false));
            foreach (var (name, node) in _jobsInOrder)
            {
                _jobs[name] = node;
            }

            ValidateJobs();
            ValidateUnusedResources();
            ValidateGroups();
            return _errors;
        }

        private void ValidateSectionShapes()
        {
            if (root["jobs"] is not JsonArray { Count: > 0 })
            {
                _errors.Add(root["jobs"] is null or JsonArray
                    ? "jobs: pipeline must contain at least one job"
                    : "jobs must be a list");
            }

            foreach (var section in new[] { "resources", "resource_types", "groups" })
            {
                if (root[section] is not (null or JsonArray))
                {
                    _errors.Add($"{section} must be a list");
                }
            }
        }

        /// <summary>Concourse reads these sections strictly (yaml.UnmarshalStrict): an unknown field is an error.</summary>
        private void ValidateFields(string section, HashSet<string> known)
        {
            foreach (var (index, node) in Entries(root, section))
            {
                var name = StringOf(node, "name");
                foreach (var field in node?.Select(entry => entry.Key).Where(field => !known.Contains(field)) ?? [])
                {
                    _errors.Add($"{section}.{(string.IsNullOrEmpty(name) ? $"[{index}]" : name)}: unknown field \"{field}\"");
                }
            }
        }

        private HashSet<string> CollectNames(string section, bool requireType) =>
            [.. CollectNamed(section, requireType).Select(entry => entry.Name)];

        /// <summary>Checks names (present, unique) and types of one section; yields the well-named entries.</summary>
        private List<(string Name, JsonObject Node)> CollectNamed(string section, bool requireType)
        {
            var named = new List<(string Name, JsonObject Node)>();
            var firstIndex = new Dictionary<string, int>(StringComparer.Ordinal);
            foreach (var (index, node) in Entries(root, section))
            {
                if (node is null)
                {
                    _errors.Add($"{section}[{index}] must be a map");
                    continue;
                }

                var name = StringOf(node, "name");
                var identifier = string.IsNullOrEmpty(name) ? $"{section}[{index}]" : $"{section}.{name}";
                if (string.IsNullOrEmpty(name))
                {
                    _errors.Add(node["name"] is null || name is not null
                        ? $"{identifier} has no name"
                        : $"{identifier}.name must be a string");
                }
                else if (firstIndex.TryGetValue(name, out var other))
                {
                    _errors.Add($"{section}[{other}] and {section}[{index}] have the same name ('{name}')");
                }
                else
                {
                    firstIndex[name] = index;
                    named.Add((name, node));
                }

                if (requireType && string.IsNullOrEmpty(StringOf(node, "type")))
                {
                    _errors.Add($"{identifier} has no type");
                }
            }

            return named;
        }

        private void ValidateJobs()
        {
            foreach (var (name, job) in _jobsInOrder)
            {
                var context = $"jobs.{name}";
                if (job["plan"] is not JsonArray { Count: > 0 } plan)
                {
                    _errors.Add($"{context} has no plan");
                    continue;
                }

                // Concourse validates a job as one `do` of its plan, wrapped in the job-level hooks.
                var planContext = context + ".plan";
                ValidateStepList(plan, planContext + ".do", index => $"[{index}]");
                ValidateHooks(job, planContext);
            }
        }

        private void ValidateStepList(JsonArray steps, string context, Func<int, string> label)
        {
            for (var index = 0; index < steps.Count; index++)
            {
                ValidateStep(steps[index], context + label(index));
            }
        }

        private void ValidateStep(JsonNode? node, string context)
        {
            if (node is not JsonObject step)
            {
                _errors.Add($"{context}: a step must be a map");
                return;
            }

            var declared = CoreStepKeys.Where(step.ContainsKey).ToList();
            if (declared.Count == 0)
            {
                _errors.Add($"{context}: no core step type declared (e.g. get, put, task, etc.)");
                return;
            }

            if (declared.Count > 1)
            {
                _errors.Add($"{context}: multiple step types declared: {string.Join(", ", declared)}");
                return;
            }

            var unknown = step.Select(field => field.Key)
                .Where(field => !StepFields[declared[0]].Contains(field) && !ModifierFields.Contains(field)).ToList();
            if (unknown.Count > 0)
            {
                _errors.Add($"{context}: unknown fields [{string.Join(" ", unknown.Select(field => $"\"{field}\""))}]");
            }

            var stepContext = step.ContainsKey("across") ? context + ".across" : context;
            switch (declared[0])
            {
                case "get":
                    ValidateGet(step, stepContext);
                    break;
                case "put":
                    ValidatePut(step, stepContext);
                    break;
                case "do":
                    ValidateNestedList(step["do"], stepContext + ".do", index => $"[{index}]");
                    break;
                case "in_parallel":
                    // Either a list of steps or {steps: [...], limit, fail_fast}.
                    var parallel = step["in_parallel"] is JsonObject config ? config["steps"] : step["in_parallel"];
                    ValidateNestedList(parallel, stepContext + ".in_parallel", index => $".steps[{index}]");
                    break;
                case "try":
                    ValidateStep(step["try"], stepContext + ".try");
                    break;
            }

            ValidateHooks(step, context);
        }

        private void ValidateNestedList(JsonNode? node, string context, Func<int, string> label)
        {
            if (node is JsonArray steps)
            {
                ValidateStepList(steps, context, label);
            }
            else
            {
                _errors.Add($"{context}: must be a list of steps");
            }
        }

        private void ValidateHooks(JsonObject owner, string context)
        {
            foreach (var hook in HookKeys)
            {
                if (owner.ContainsKey(hook))
                {
                    ValidateStep(owner[hook], $"{context}.{hook}");
                }
            }
        }

        private void ValidateGet(JsonObject step, string context)
        {
            var name = StringOf(step, "get") ?? string.Empty;
            var resource = StringOf(step, "resource") ?? name;
            context += $".get({name})";
            if (!_resources.Contains(resource))
            {
                _errors.Add($"{context}: unknown resource '{resource}'");
            }

            foreach (var passed in ListOf(step["passed"]))
            {
                var jobName = TextOf(passed);
                if (!_jobs.TryGetValue(jobName, out var job))
                {
                    _errors.Add($"{context}.passed: unknown job '{jobName}'");
                }
                else if (!ResourcesOf(job).Contains(resource))
                {
                    _errors.Add($"{context}.passed: job '{jobName}' does not interact with resource '{resource}'");
                }
            }
        }

        private void ValidatePut(JsonObject step, string context)
        {
            var name = StringOf(step, "put") ?? string.Empty;
            var resource = StringOf(step, "resource") ?? name;
            if (!_resources.Contains(resource))
            {
                _errors.Add($"{context}.put({name}): unknown resource '{resource}'");
            }
        }

        private void ValidateUnusedResources()
        {
            var used = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (_, job) in _jobsInOrder)
            {
                used.UnionWith(ResourcesOf(job));
            }

            foreach (var resource in _resourcesInOrder.Where(resource => !used.Contains(resource)))
            {
                _errors.Add($"resource '{resource}' is not used");
            }
        }

        private void ValidateGroups()
        {
            if (root["groups"] is not JsonArray { Count: > 0 })
            {
                return;
            }

            var grouped = new HashSet<string>(StringComparer.Ordinal);
            var occurrences = new Dictionary<string, int>(StringComparer.Ordinal);
            var order = new List<string>();
            foreach (var (index, group) in Entries(root, "groups"))
            {
                var name = StringOf(group, "name");
                if (group is null || string.IsNullOrEmpty(name))
                {
                    _errors.Add($"groups[{index}] has no name");
                    continue;
                }

                if (occurrences.TryAdd(name, 1))
                {
                    order.Add(name);
                }
                else
                {
                    occurrences[name]++;
                }

                foreach (var job in ListOf(group["jobs"]))
                {
                    var jobName = TextOf(job);
                    if (_jobs.ContainsKey(jobName))
                    {
                        grouped.Add(jobName);
                    }
                    else
                    {
                        _errors.Add($"group '{name}' has unknown job '{jobName}'");
                    }
                }

                foreach (var resource in ListOf(group["resources"]).Select(TextOf))
                {
                    if (!_resources.Contains(resource))
                    {
                        _errors.Add($"group '{name}' has unknown resource '{resource}'");
                    }
                }
            }

            foreach (var name in order.Where(name => occurrences[name] > 1))
            {
                _errors.Add($"group '{name}' appears {occurrences[name]} times. Duplicate names are not allowed.");
            }

            foreach (var job in _jobsInOrder.Select(job => job.Name).Where(job => !grouped.Contains(job)))
            {
                _errors.Add($"job '{job}' belongs to no group");
            }
        }

        /// <summary>Every resource a job gets or puts, at any depth (nested steps, hooks, job-level hooks).</summary>
        private static HashSet<string> ResourcesOf(JsonObject job)
        {
            var resources = new HashSet<string>(StringComparer.Ordinal);
            Collect(job);
            return resources;

            void Collect(JsonNode? node)
            {
                switch (node)
                {
                    case JsonArray list:
                        foreach (var item in list)
                        {
                            Collect(item);
                        }

                        break;
                    case JsonObject step:
                        foreach (var key in new[] { "get", "put" })
                        {
                            if (StringOf(step, key) is { } name)
                            {
                                resources.Add(StringOf(step, "resource") ?? name);
                            }
                        }

                        foreach (var key in new[] { "plan", "do", "in_parallel", "steps", "try" }.Concat(HookKeys))
                        {
                            Collect(step[key]);
                        }

                        break;
                }
            }
        }
    }
}
