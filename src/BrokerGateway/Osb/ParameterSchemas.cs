using Json.Schema;

namespace OnDemand.BrokerGateway.Osb;

/// <summary>
/// Each plan's parameter schemas, compiled once. The catalog advertises them as draft-04 (what Cloud Controller
/// reads); they are evaluated here under the current dialect, so plan schemas keep to the common subset.
/// </summary>
public sealed class ParameterSchemas
{
    private readonly Dictionary<string, JsonSchema?> _create = new(StringComparer.Ordinal);
    private readonly Dictionary<string, JsonSchema?> _update = new(StringComparer.Ordinal);

    public ParameterSchemas(BrokerCatalog catalog)
    {
        foreach (var plan in catalog.Services.SelectMany(s => s.Plans))
        {
            _create[plan.Id] = Compile(plan.CreateSchema, $"urn:ondemand:plans:{plan.Id}:create");
            _update[plan.Id] = Compile(plan.UpdateSchema, $"urn:ondemand:plans:{plan.Id}:update");
        }
    }

    /// <returns>null when valid; otherwise a description naming the offending parameter.</returns>
    public string? ValidateCreate(ServicePlan plan, JsonObject parameters) => Validate(_create.GetValueOrDefault(plan.Id), plan, parameters);

    public string? ValidateUpdate(ServicePlan plan, JsonObject parameters) => Validate(_update.GetValueOrDefault(plan.Id), plan, parameters);

    /// <summary>
    /// The parameters as the plan's schema types them: a number the schema declares "integer" (JSON Schema accepts
    /// 100.0 and 1e2 as integers) becomes an integer, so it reaches the pipeline as one. Call after validation.
    /// </summary>
    public JsonObject Normalize(ServicePlan plan, JsonObject parameters) =>
        NormalizeObject(plan.CreateSchema, parameters);

    private static JsonObject NormalizeObject(JsonObject? schema, JsonObject values)
    {
        if (schema?["properties"] is not JsonObject properties) return values;
        var result = new JsonObject();
        foreach (var (name, value) in values)
        {
            var property = properties[name] as JsonObject;
            result[name] = value switch
            {
                JsonValue number when IsInteger(property) && number.GetValueKind() == JsonValueKind.Number
                    && number.TryGetValue<decimal>(out var d) && decimal.Truncate(d) == d && d is >= long.MinValue and <= long.MaxValue
                    => JsonValue.Create((long)d),
                JsonObject nested => NormalizeObject(property, nested),
                _ => value?.DeepClone(),
            };
        }
        return result;
    }

    private static bool IsInteger(JsonObject? property) => property?["type"] switch
    {
        JsonValue type => type.TryGetValue<string>(out var t) && t == "integer",
        JsonArray types => types.Any(t => t is JsonValue v && v.TryGetValue<string>(out var s) && s == "integer"),
        _ => false,
    };

    private static string? Validate(JsonSchema? schema, ServicePlan plan, JsonObject parameters)
    {
        if (schema is null)
            return parameters.Count == 0 ? null : $"plan {plan.Name} accepts no parameters (got: {string.Join(", ", parameters.Select(p => p.Key))})";
        using var document = JsonDocument.Parse(parameters.ToJsonString());
        var results = schema.Evaluate(document.RootElement, new EvaluationOptions { OutputFormat = OutputFormat.List });
        if (results.IsValid) return null;
        var problems = (results.Details ?? [])
            .Where(d => !d.IsValid && d.Errors is { Count: > 0 })
            .SelectMany(d => d.Errors!.Select(e => Describe(d.InstanceLocation.ToString(), e.Key, e.Value, parameters)))
            .Distinct()
            .Take(5)
            .ToList();
        return $"invalid parameters for plan {plan.Name}: {(problems.Count > 0 ? string.Join("; ", problems) : "they do not match the plan's schema")}";
    }

    private static string Describe(string location, string keyword, string message, JsonObject parameters)
    {
        var field = location.TrimStart('/').Replace("/", ".");
        if (keyword == "additionalProperties" || (keyword == "falseSchema" && field.Length > 0))
            return $"unknown parameter '{field}' (allowed: see the plan's schema in the marketplace)";
        return field.Length == 0 ? message : $"parameter '{field}': {message}";
    }

    /// <summary>Every "pattern" and "patternProperties" key of the schema, rewritten to behave as in ECMA-262.</summary>
    private static void TranslatePatterns(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj.ToList())
                {
                    if (name == "pattern" && value is JsonValue pattern && pattern.TryGetValue<string>(out var text))
                        obj[name] = EcmaPatterns.ToDotNet(text);
                    else if (name == "patternProperties" && value is JsonObject patterns)
                    {
                        var translated = new JsonObject();
                        foreach (var (key, sub) in patterns.ToList())
                        {
                            patterns.Remove(key);
                            TranslatePatterns(sub);
                            translated[EcmaPatterns.ToDotNet(key)] = sub;
                        }
                        obj[name] = translated;
                    }
                    else TranslatePatterns(value);
                }
                break;
            case JsonArray array:
                foreach (var item in array) TranslatePatterns(item);
                break;
        }
    }

    private static JsonSchema? Compile(JsonObject? schema, string baseUri)
    {
        if (schema is null) return null;
        var copy = (JsonObject)schema.DeepClone();
        copy.Remove("$schema");
        TranslatePatterns(copy);
        return JsonSchema.FromText(copy.ToJsonString(), new BuildOptions { SchemaRegistry = new SchemaRegistry() }, new Uri(baseUri));
    }
}
