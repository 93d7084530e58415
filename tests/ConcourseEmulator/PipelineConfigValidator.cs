using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OnDemand.ConcourseEmulator;

/// <summary>
/// The subset of Concourse's config checks (atc/configvalidate, atc/step_validator.go, atc/validate_identifier.go)
/// that a pipeline generator can trip over, with Concourse's wording and grouping: each error is one
/// "invalid &lt;group&gt;:\n\t&lt;message&gt;\n..." string. Structural problems (a job that is not a map, an unknown
/// nested key) fail first as a single "malformed config: ..." error, as Concourse's strict unmarshalling does.
/// Beyond Concourse: a job without a plan is an error here ("jobs.x has no plan"), since it can only be a generator bug.
/// </summary>
internal static partial class PipelineConfigValidator
{
    private static readonly string[] TopLevelKeys = ["groups", "resources", "resource_types", "var_sources", "jobs", "display", "prototypes"];

    private static readonly HashSet<string> JobKeys = new(StringComparer.Ordinal)
    {
        "name", "old_name", "public", "disable_manual_trigger", "disable_reruns", "serial", "interruptible", "serial_groups", "max_in_flight",
        "build_logs_to_retain", "build_log_retention", "on_success", "on_failure", "on_error", "on_abort", "ensure", "plan",
    };

    private static readonly HashSet<string> ResourceKeys = new(StringComparer.Ordinal)
    {
        "name", "old_name", "public", "webhook_token", "type", "source", "check_every", "check_timeout", "tags", "version",
        "icon", "expose_build_created_by",
    };

    private static readonly HashSet<string> ResourceTypeKeys = new(StringComparer.Ordinal)
    {
        "name", "type", "source", "defaults", "privileged", "check_every", "tags", "params",
    };

    private static readonly HashSet<string> GroupKeys = new(StringComparer.Ordinal) { "name", "jobs", "resources" };

    private static readonly string[] StepTypes = ["get", "put", "task", "set_pipeline", "load_var", "in_parallel", "do", "try", "aggregate", "run"];

    private static readonly string[] Hooks = ["on_success", "on_failure", "on_abort", "on_error", "ensure"];

    /// <summary>Fields per step type (concourse v8.2.4 atc/steps.go json tags) and the modifiers any step may carry.</summary>
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
        ["aggregate"] = ["aggregate"],
        ["in_parallel"] = ["in_parallel"],
    };

    private static readonly string[] StepModifiers = ["across", "fail_fast", "attempts", "timeout", "on_success", "on_failure", "on_error", "on_abort", "ensure"];

    /// <summary>
    /// Validates <paramref name="root"/> and drops unknown top-level keys from it (Concourse ignores them, so a
    /// <c>meta:</c> block of YAML anchors is fine).
    /// </summary>
    public static PipelineValidation Validate(JsonNode? root, string pipelineName)
    {
        try
        {
            return ValidateStrict(root, pipelineName);
        }
        catch (MalformedConfigException ex)
        {
            return new PipelineValidation(null, [], [$"malformed config: {ex.Message}"], []);
        }
    }

    private static PipelineValidation ValidateStrict(JsonNode? root, string pipelineName)
    {
        if (root is not JsonObject config)
        {
            throw new MalformedConfigException("error unmarshaling JSON: the config must be a map");
        }
        foreach (var key in config.Select(property => property.Key).Where(key => !TopLevelKeys.Contains(key)).ToList())
        {
            config.Remove(key);
        }

        var jobs = Items(config, "jobs", JobKeys);
        var resources = Items(config, "resources", ResourceKeys);
        var resourceTypes = Items(config, "resource_types", ResourceTypeKeys);
        var groups = Items(config, "groups", GroupKeys);

        var warnings = new List<ConfigWarning>();
        if (IdentifierWarning(pipelineName, "pipeline") is { } pipelineWarning)
        {
            warnings.Add(pipelineWarning);
        }

        var jobNames = jobs.Select(job => Text(job, "name") ?? "").ToList();
        var resourceNames = resources.Select(resource => Text(resource, "name") ?? "").Where(name => name.Length > 0).ToHashSet(StringComparer.Ordinal);
        var usedResources = new HashSet<string>(StringComparer.Ordinal);
        var jobErrors = ValidateJobs(jobs, resourceNames, usedResources, warnings);

        var errors = new List<string>();
        AddGroup(errors, "groups", ValidateGroups(groups, jobNames, resourceNames, warnings));
        AddGroup(errors, "resources", ValidateNamedTyped(resources, "resources", warnings, usedResources));
        AddGroup(errors, "resource types", ValidateNamedTyped(resourceTypes, "resource_types", warnings, used: null));
        AddGroup(errors, "jobs", jobErrors);

        var specs = jobs.Select(job => new JobSpec(Text(job, "name") ?? "", Flag(job, "disable_manual_trigger"))).ToList();
        return new PipelineValidation(config, specs, errors, warnings);
    }

    private static List<string> ValidateJobs(List<JsonObject> jobs, HashSet<string> resourceNames, HashSet<string> usedResources, List<ConfigWarning> warnings)
    {
        var errors = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < jobs.Count; i++)
        {
            var job = jobs[i];
            var name = Text(job, "name") ?? "";
            var identifier = name.Length == 0 ? $"jobs[{i}]" : $"jobs.{name}";
            CheckName(name, identifier, i, "jobs", seen, errors, warnings);

            var plan = job["plan"] as JsonArray;
            if (job["plan"] is not null && plan is null)
            {
                throw new MalformedConfigException($"error unmarshaling JSON: {identifier}.plan must be a list of steps");
            }
            if (plan is null || plan.Count == 0)
            {
                errors.Add($"{identifier} has no plan");
            }
            var steps = new StepVisitor(resourceNames, usedResources, errors);
            for (var s = 0; s < (plan?.Count ?? 0); s++)
            {
                steps.Visit(plan![s], $"{identifier}.plan.do[{s}]");
            }
            foreach (var hook in Hooks)
            {
                if (job[hook] is { } hookStep)
                {
                    steps.Visit(hookStep, $"{identifier}.plan.{hook}");
                }
            }
        }
        return errors;
    }

    private static List<string> ValidateNamedTyped(List<JsonObject> items, string kind, List<ConfigWarning> warnings, HashSet<string>? used)
    {
        var errors = new List<string>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            var name = Text(items[i], "name") ?? "";
            var identifier = name.Length == 0 ? $"{kind}[{i}]" : $"{kind}.{name}";
            CheckName(name, identifier, i, kind, seen, errors, warnings);
            if (string.IsNullOrEmpty(Text(items[i], "type")))
            {
                errors.Add($"{identifier} has no type");
            }
        }
        if (used is not null)
        {
            foreach (var item in items)
            {
                var name = Text(item, "name") ?? "";
                if (!used.Contains(name))
                {
                    errors.Add($"resource '{name}' is not used");
                }
            }
        }
        return errors;
    }

    private static List<string> ValidateGroups(List<JsonObject> groups, List<string> jobNames, HashSet<string> resourceNames, List<ConfigWarning> warnings)
    {
        var errors = new List<string>();
        if (groups.Count == 0)
        {
            return errors;
        }
        var knownJobs = jobNames.ToHashSet(StringComparer.Ordinal);
        var grouped = new HashSet<string>(StringComparer.Ordinal);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < groups.Count; i++)
        {
            var name = Text(groups[i], "name") ?? "";
            if (IdentifierWarning(name, name.Length == 0 ? $"groups[{i}]" : $"groups.{name}") is { } warning)
            {
                warnings.Add(warning);
            }
            counts[name] = counts.GetValueOrDefault(name) + 1;
            foreach (var job in Texts(groups[i], "jobs"))
            {
                if (knownJobs.Contains(job))
                {
                    grouped.Add(job);
                }
                else
                {
                    errors.Add($"group '{name}' has unknown job '{job}'");
                }
            }
            foreach (var resource in Texts(groups[i], "resources").Where(resource => !resourceNames.Contains(resource)))
            {
                errors.Add($"group '{name}' has unknown resource '{resource}'");
            }
        }
        errors.AddRange(counts.Where(count => count.Value > 1)
            .Select(count => $"group '{count.Key}' appears {count.Value} times. Duplicate names are not allowed."));
        errors.AddRange(jobNames.Where(job => !grouped.Contains(job)).Select(job => $"job '{job}' belongs to no group"));
        return errors;
    }

    private static void CheckName(
        string name, string identifier, int index, string kind, Dictionary<string, int> seen, List<string> errors, List<ConfigWarning> warnings)
    {
        if (name.Length == 0)
        {
            errors.Add($"{identifier} has no name");
            return;
        }
        if (IdentifierWarning(name, identifier) is { } warning)
        {
            warnings.Add(warning);
        }
        if (seen.TryGetValue(name, out var other))
        {
            errors.Add($"{kind}[{other}] and {kind}[{index}] have the same name ('{name}')");
        }
        else
        {
            seen[name] = index;
        }
    }

    /// <summary>Concourse's identifier rule is only a warning: lowercase letters, digits, '-', '_' and '.'.</summary>
    internal static ConfigWarning? IdentifierWarning(string identifier, string context)
    {
        if (identifier.Length == 0 || Placeholder().IsMatch(identifier))
        {
            return null; // empty names are errors elsewhere; ((vars)) are filled in later
        }
        if (JustNumbers().IsMatch(identifier))
        {
            return new ConfigWarning("invalid_identifier", $"{context}: '{identifier}' identifier cannot be just numbers");
        }
        if (ValidIdentifier().IsMatch(identifier))
        {
            return null;
        }
        var reason = InvalidStart().IsMatch(identifier)
            ? "must start with a lowercase letter or a number"
            : $"illegal character '{InvalidCharacter().Match(identifier, 1).Value}'";
        return new ConfigWarning("invalid_identifier", $"{context}: '{identifier}' is not a valid identifier: {reason}");
    }

    private static void AddGroup(List<string> errors, string group, List<string> messages)
    {
        if (messages.Count > 0)
        {
            errors.Add($"invalid {group}:\n{string.Join("\n", messages.Select(message => "\t" + message))}\n");
        }
    }

    private static List<JsonObject> Items(JsonObject config, string key, HashSet<string> allowedKeys)
    {
        var node = config[key];
        if (node is null)
        {
            return [];
        }
        if (node is not JsonArray array)
        {
            throw new MalformedConfigException($"error unmarshaling JSON: {key} must be a list");
        }
        var items = new List<JsonObject>(array.Count);
        foreach (var item in array)
        {
            if (item is not JsonObject itemObject)
            {
                throw new MalformedConfigException($"error unmarshaling JSON: every entry of {key} must be a map");
            }
            if (itemObject.Select(property => property.Key).FirstOrDefault(name => !allowedKeys.Contains(name)) is { } unknown)
            {
                throw new MalformedConfigException($"error unmarshaling JSON: while decoding JSON: json: unknown field \"{unknown}\"");
            }
            items.Add(itemObject);
        }
        return items;
    }

    internal static string? Text(JsonObject item, string key) => item[key] switch
    {
        null => null,
        JsonValue value when value.TryGetValue<string>(out var text) => text,
        _ => throw new MalformedConfigException($"error unmarshaling JSON: field {key} must be a string"),
    };

    private static IEnumerable<string> Texts(JsonObject item, string key) => item[key] switch
    {
        null => [],
        JsonArray array => array.Select(entry => entry is JsonValue value && value.TryGetValue<string>(out var text)
            ? text
            : throw new MalformedConfigException($"error unmarshaling JSON: {key} must be a list of strings")).ToList(),
        _ => throw new MalformedConfigException($"error unmarshaling JSON: {key} must be a list of strings"),
    };

    private static bool Flag(JsonObject item, string key) => item[key] is JsonValue value && value.TryGetValue<bool>(out var flag) && flag;

    /// <summary>Walks a job's steps (do, in_parallel, try, hooks) like atc.StepValidator, checking get/put resources.</summary>
    private sealed class StepVisitor(HashSet<string> resourceNames, HashSet<string> usedResources, List<string> errors)
    {
        public void Visit(JsonNode? node, string context)
        {
            if (node is not JsonObject step)
            {
                throw new MalformedConfigException($"error unmarshaling JSON: {context} must be a map");
            }
            var type = StepTypes.FirstOrDefault(step.ContainsKey);
            if (type is not null)
            {
                var unknown = step.Select(field => field.Key).Where(field => !StepFields[type].Contains(field) && !StepModifiers.Contains(field)).ToList();
                if (unknown.Count > 0)
                {
                    errors.Add($"{context}: unknown fields [{string.Join(" ", unknown.Select(field => $"\"{field}\""))}]");
                }
            }
            switch (type)
            {
                case "get" or "put":
                    var name = Text(step, type) ?? "";
                    var resource = Text(step, "resource") ?? name;
                    usedResources.Add(resource);
                    if (!resourceNames.Contains(resource))
                    {
                        errors.Add($"{context}.{type}({name}): unknown resource '{resource}'");
                    }
                    break;
                case "do" or "aggregate":
                    VisitAll(step[type], $"{context}.{type}", "");
                    break;
                case "in_parallel":
                    var parallel = step["in_parallel"] is JsonObject { } config ? config["steps"] : step["in_parallel"];
                    VisitAll(parallel, $"{context}.in_parallel", ".steps");
                    break;
                case "try":
                    Visit(step["try"], $"{context}.try");
                    break;
                case null:
                    errors.Add($"{context}: no core step type declared (e.g. get, put, task, etc.)");
                    break;
            }
            foreach (var hook in Hooks)
            {
                if (step[hook] is { } hookStep)
                {
                    Visit(hookStep, $"{context}.{hook}");
                }
            }
        }

        private void VisitAll(JsonNode? steps, string context, string indexPrefix)
        {
            if (steps is not JsonArray array)
            {
                throw new MalformedConfigException($"error unmarshaling JSON: {context} must be a list of steps");
            }
            for (var i = 0; i < array.Count; i++)
            {
                Visit(array[i], $"{context}{indexPrefix}[{i}]");
            }
        }
    }

    [GeneratedRegex(@"^[\p{Ll}\p{Lt}\p{Lm}\p{Lo}\d][\p{Ll}\p{Lt}\p{Lm}\p{Lo}\d\-_.]*$")]
    private static partial Regex ValidIdentifier();

    [GeneratedRegex(@"^[^\p{Ll}\p{Lt}\p{Lm}\p{Lo}\d]")]
    private static partial Regex InvalidStart();

    [GeneratedRegex(@"[^\p{Ll}\p{Lt}\p{Lm}\p{Lo}\d\-_.]")]
    private static partial Regex InvalidCharacter();

    [GeneratedRegex(@"^\d+$")]
    private static partial Regex JustNumbers();

    [GeneratedRegex(@"\(\([a-zA-Z0-9_\-\.]+\)\)")]
    private static partial Regex Placeholder();
}
