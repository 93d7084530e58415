using System.Text.Json.Nodes;
using OnDemand.Grains.Yaml;

namespace OnDemand.Grains.Catalog;

/// <summary>
/// Loads the catalog from the broker's YAML file (see config/broker.yml for the format), with the broker's one YAML
/// 1.2 reader (<see cref="YamlLoader"/>, the same that reads pipeline templates). Fails fast, with the offending
/// path, on anything that would make the broker advertise or do something wrong.
/// </summary>
public static class CatalogLoader
{
    public static BrokerCatalog LoadFile(string path)
    {
        if (!File.Exists(path)) throw new CatalogException($"broker configuration '{path}' not found");
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        return Parse(File.ReadAllText(path), folder);
    }

    /// <param name="baseFolder">folder against which relative template paths are resolved.</param>
    public static BrokerCatalog Parse(string yaml, string baseFolder)
    {
        JsonNode? root;
        try { root = YamlLoader.Parse(yaml, "broker configuration"); }
        catch (YamlLoadException e) { throw new CatalogException(e.Message, e); }
        if (root is not JsonObject || root["services"] is not JsonArray services || services.Count == 0)
            throw new CatalogException("broker configuration has no 'services'");

        var offerings = services.Select((s, i) => ReadService(s as JsonObject ?? throw new CatalogException($"services[{i}] is not a map"), $"services[{i}]", baseFolder)).ToList();
        var ids = offerings.Select(s => s.Id).Concat(offerings.SelectMany(s => s.Plans.Select(p => p.Id))).ToList();
        var duplicate = ids.GroupBy(id => id).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new CatalogException($"id '{duplicate.Key}' is used twice in the catalog");
        var duplicateName = offerings.GroupBy(s => s.Name).FirstOrDefault(g => g.Count() > 1);
        if (duplicateName is not null) throw new CatalogException($"service name '{duplicateName.Key}' is used twice");
        return new BrokerCatalog(offerings);
    }

    private static ServiceOffering ReadService(JsonObject node, string at, string baseFolder)
    {
        var pipeline = node["pipeline"] as JsonObject ?? throw new CatalogException($"{at}.pipeline is required");
        var template = Required(pipeline, "template", $"{at}.pipeline");
        var templatePath = Path.GetFullPath(Path.Combine(baseFolder, template));
        if (!File.Exists(templatePath)) throw new CatalogException($"{at}.pipeline.template '{templatePath}' not found");

        var serviceBindable = Bool(node, "bindable", true);
        var servicePlanUpdateable = Bool(node, "plan_updateable", true);
        var plans = (node["plans"] as JsonArray ?? throw new CatalogException($"{at}.plans is required"))
            .Select((p, i) => ReadPlan(p as JsonObject ?? throw new CatalogException($"{at}.plans[{i}] is not a map"), $"{at}.plans[{i}]", serviceBindable, servicePlanUpdateable))
            .ToList();
        if (plans.Count == 0) throw new CatalogException($"{at}.plans must list at least one plan");
        foreach (var plan in plans)
        {
            var unknown = plan.AllowedPlanChanges.FirstOrDefault(n => plans.All(p => p.Name != n || p.Kind != plan.Kind));
            if (unknown is not null) throw new CatalogException($"plan '{plan.Name}' allows a change to '{unknown}', which is not a {plan.Kind.ToString().ToLowerInvariant()} plan of this service");
        }

        return new ServiceOffering
        {
            Id = Required(node, "id", at),
            Name = Required(node, "name", at),
            Description = Required(node, "description", at),
            Bindable = serviceBindable,
            InstancesRetrievable = Bool(node, "instances_retrievable", true),
            BindingsRetrievable = Bool(node, "bindings_retrievable", true),
            AllowContextUpdates = Bool(node, "allow_context_updates", true),
            // The service-level flag is what plans without their own inherit: true only when some plan really is.
            PlanUpdateable = plans.Any(p => p.PlanUpdateable),
            Tags = (node["tags"] as JsonArray)?.Select(t => t?.GetValue<string>() ?? "").ToList() ?? [],
            Metadata = node["metadata"]?.DeepClone() as JsonObject,
            Databases = node["databases"] is JsonObject databases ? ReadDatabases(databases, $"{at}.databases") : null,
            Pipeline = new ClusterPipelineSettings(templatePath, Optional(pipeline, "deploy_job") ?? "deploy", Optional(pipeline, "delete_job") ?? "delete"),
            Plans = plans,
        };
    }

    private static DatabaseSettings ReadDatabases(JsonObject node, string at)
    {
        var port = Integer(node, "admin_port", 0, at);
        if (port is <= 0 or > 65535) throw new CatalogException($"{at}.admin_port must be a TCP port");
        return new DatabaseSettings(Required(node, "provisioner", at), Required(node, "admin_host", at), (int)port, Optional(node, "admin_database") ?? "postgres");
    }

    private static ServicePlan ReadPlan(JsonObject node, string at, bool serviceBindable, bool servicePlanUpdateable)
    {
        var kind = Required(node, "kind", at) switch
        {
            "cluster" => PlanKind.Cluster,
            "database" => PlanKind.Database,
            var other => throw new CatalogException($"{at}.kind '{other}' must be 'cluster' or 'database'"),
        };
        var maintenance = node["maintenance_info"] as JsonObject ?? throw new CatalogException($"{at}.maintenance_info is required");
        var version = Required(maintenance, "version", $"{at}.maintenance_info");
        if (!System.Text.RegularExpressions.Regex.IsMatch(version, @"^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$"))
            throw new CatalogException($"{at}.maintenance_info.version '{version}' is not semver");
        var polling = Integer(node, "maximum_polling_duration", 7200, at);
        var allowedPlanChanges = (node["allowed_plan_changes"] as JsonArray)?.Select(t => t?.GetValue<string>() ?? "").ToList() ?? [];
        if (polling <= 0 || polling > int.MaxValue) throw new CatalogException($"{at}.maximum_polling_duration must be a positive number of seconds");

        var createSchema = Schema(node["parameters"], $"{at}.parameters");
        var updateSchema = node.ContainsKey("update_parameters") ? Schema(node["update_parameters"], $"{at}.update_parameters") : createSchema;

        return new ServicePlan
        {
            Id = Required(node, "id", at),
            Name = Required(node, "name", at),
            Description = Required(node, "description", at),
            Kind = kind,
            // Cluster plans are never bindable: apps bind to the databases inside them.
            Bindable = kind == PlanKind.Database && Bool(node, "bindable", serviceBindable),
            // Truthful: a plan is updateable only when update accepts a change to another plan (tuning parameters and
            // renames need no plan_updateable). plan_updateable: false in the file turns the allowed changes off.
            PlanUpdateable = Bool(node, "plan_updateable", servicePlanUpdateable) && allowedPlanChanges.Count > 0,
            Free = Bool(node, "free", true),
            AllowedPlanChanges = allowedPlanChanges,
            MaximumPollingDuration = (int)polling,
            MaintenanceInfoVersion = version,
            MaintenanceInfoDescription = Optional(maintenance, "description"),
            Vars = node["vars"]?.DeepClone() as JsonObject ?? [],
            CreateSchema = createSchema,
            UpdateSchema = updateSchema,
            Metadata = node["metadata"]?.DeepClone() as JsonObject,
        };
    }

    private static JsonObject? Schema(JsonNode? node, string at)
    {
        if (node is null) return null;
        if (node is not JsonObject schema) throw new CatalogException($"{at} must be a JSON schema object");
        var copy = (JsonObject)schema.DeepClone();
        copy["$schema"] ??= "http://json-schema.org/draft-04/schema#";
        if (copy.ToJsonString().Contains("\"$ref\"", StringComparison.Ordinal))
            throw new CatalogException($"{at}: plan schemas may not use $ref (OSB forbids external references)");
        if (copy.ToJsonString().Length > 64 * 1024) throw new CatalogException($"{at} is larger than 64 kB");
        return copy;
    }

    private static string Required(JsonObject node, string key, string at) =>
        Optional(node, key) is { Length: > 0 } value ? value : throw new CatalogException($"{at}.{key} is required");

    private static string? Optional(JsonObject node, string key) => node[key] switch
    {
        null => null,
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v => v.ToJsonString(),
        _ => throw new CatalogException($"'{key}' must be a scalar"),
    };

    private static long Integer(JsonObject node, string key, long fallback, string at) => node[key] switch
    {
        null => fallback,
        JsonValue v when v.TryGetValue<long>(out var n) => n,
        _ => throw new CatalogException($"{at}.{key} must be an integer"),
    };

    private static bool Bool(JsonObject node, string key, bool fallback) => node[key] switch
    {
        null => fallback,
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        _ => throw new CatalogException($"'{key}' must be true or false"),
    };
}
