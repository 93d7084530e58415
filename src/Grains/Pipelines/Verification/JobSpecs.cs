using System.Text.Json;
using System.Text.Json.Nodes;

namespace OnDemand.Grains.Pipelines.Verification;

/// <summary>
/// The property and link names of the jobs of one pinned BOSH release version, as kept in templates/bosh/specs
/// (written by scripts/extract-job-specs.py from the release's jobs/*/spec at its tag).
/// </summary>
public sealed class JobSpecs
{
    public required string Release { get; init; }
    public required string Version { get; init; }
    public required IReadOnlyDictionary<string, Job> Jobs { get; init; }

    public sealed record Job(IReadOnlySet<string> Properties, IReadOnlySet<string> Provides, IReadOnlySet<string> Consumes);

    public static JobSpecs Load(string path)
    {
        var root = JsonNode.Parse(File.ReadAllText(path))!;
        var jobs = new Dictionary<string, Job>(StringComparer.Ordinal);
        foreach (var (name, job) in root["jobs"]!.AsObject())
        {
            jobs[name] = new Job(Names(job!["properties"]), Names(job["provides"]), Names(job["consumes"]));
        }
        return new JobSpecs { Release = root["release"]!.GetValue<string>(), Version = root["version"]!.GetValue<string>(), Jobs = jobs };
    }

    /// <summary>All spec files of a directory, by release name.</summary>
    public static IReadOnlyDictionary<string, JobSpecs> LoadDirectory(string directory) =>
        System.IO.Directory.GetFiles(directory, "*.json").Select(Load).ToDictionary(spec => spec.Release, StringComparer.Ordinal);

    private static HashSet<string> Names(JsonNode? list) =>
        new((list as JsonArray ?? []).Select(item => item!.GetValue<string>()), StringComparer.Ordinal);

    /// <summary>
    /// Checks an interpolated manifest: each release pinned to the spec's version, each job known to its release, each
    /// property path a spec property (or a map above one), each link name one the job provides or consumes.
    /// </summary>
    public static IReadOnlyList<string> Check(JsonNode manifest, IReadOnlyDictionary<string, JobSpecs> specs)
    {
        var errors = new List<string>();
        var versions = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var release in (manifest["releases"] as JsonArray) ?? [])
        {
            var name = (string?)release?["name"] ?? "?";
            var version = release?["version"]?.ToString() ?? "";
            versions[name] = version;
            if (!specs.TryGetValue(name, out var spec))
            {
                errors.Add($"release '{name}': no job specs kept for it (templates/bosh/specs)");
            }
            else if (spec.Version != version)
            {
                errors.Add($"release '{name}' is version '{version}' but the kept job specs are of version {spec.Version}");
            }
        }

        var groups = ((manifest["instance_groups"] as JsonArray) ?? []).Select(g => (Kind: "instance_groups", Node: g))
            .Concat(((manifest["addons"] as JsonArray) ?? []).Select(a => (Kind: "addons", Node: a)));
        foreach (var (kind, group) in groups)
        {
            var groupName = (string?)group?["name"] ?? "?";
            foreach (var job in (group?["jobs"] as JsonArray) ?? [])
            {
                var jobName = (string?)job?["name"] ?? "?";
                var releaseName = (string?)job?["release"] ?? "?";
                var where = $"{kind}/{groupName}/jobs/{jobName}";
                if (!versions.ContainsKey(releaseName))
                {
                    errors.Add($"{where}: release '{releaseName}' is not in releases:");
                    continue;
                }
                if (!specs.TryGetValue(releaseName, out var spec)) continue;
                if (!spec.Jobs.TryGetValue(jobName, out var jobSpec))
                {
                    errors.Add($"{where}: release {releaseName} {spec.Version} has no job '{jobName}' (kept jobs: {string.Join(", ", spec.Jobs.Keys)})");
                    continue;
                }
                if (job!["properties"] is JsonObject properties) CheckProperties(properties, "", jobSpec, $"{where}/properties", spec, errors);
                CheckLinks(job["provides"], jobSpec.Provides, "provides", where, errors);
                CheckLinks(job["consumes"], jobSpec.Consumes, "consumes", where, errors);
            }
        }
        return errors;
    }

    private static void CheckProperties(JsonObject map, string prefix, Job job, string where, JobSpecs spec, List<string> errors)
    {
        foreach (var (key, value) in map)
        {
            var path = prefix + key;
            if (job.Properties.Contains(path)) continue;
            if (value is JsonObject nested && job.Properties.Any(p => p.StartsWith(path + ".", StringComparison.Ordinal)))
            {
                CheckProperties(nested, path + ".", job, where, spec, errors);
                continue;
            }
            errors.Add($"{where}: property '{path}' is not in the job spec of {spec.Release} {spec.Version}");
        }
    }

    private static void CheckLinks(JsonNode? links, IReadOnlySet<string> known, string kind, string where, List<string> errors)
    {
        foreach (var (name, _) in links as JsonObject ?? [])
        {
            if (!known.Contains(name)) errors.Add($"{where}: {kind} link '{name}' is not in the job spec");
        }
    }
}
