using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OnDemand.Grains.Pipelines.Verification;

/// <summary>
/// BOSH CLI interpolation (bosh-cli director/template), strict: a scalar that is exactly <c>((name))</c> takes the
/// var's typed value, a reference inside longer text is spliced as text, <c>((name.key))</c> reads a key of a map var.
/// Unlike the CLI, every reference must be either given or a director CredHub variable declared under
/// <c>variables:</c> (those stay references for the director), and every given var must be used: BOSH drops unused
/// vars silently, which is how tuning used to go nowhere.
/// </summary>
public static partial class BoshInterpolation
{
    [GeneratedRegex(@"\(\(([-/\.\w\p{L}]+)\)\)", RegexOptions.CultureInvariant)]
    private static partial Regex Reference();

    public sealed record Result(JsonNode? Document, IReadOnlyList<string> Errors);

    public static Result Interpolate(JsonNode? document, IReadOnlyDictionary<string, JsonNode?> vars)
    {
        ArgumentNullException.ThrowIfNull(vars);
        var declared = new HashSet<string>(StringComparer.Ordinal);
        foreach (var variable in (document?["variables"] as JsonArray) ?? [])
        {
            if (variable?["name"] is JsonValue name && name.GetValueKind() == JsonValueKind.String) declared.Add(name.GetValue<string>());
        }
        var errors = new List<string>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        var result = Walk(document, "", vars, declared, used, errors);
        foreach (var name in vars.Keys.Where(name => !used.Contains(name)).Order(StringComparer.Ordinal))
        {
            errors.Add($"var '{name}' is given but the manifest never uses it");
        }
        return new Result(result, errors);
    }

    private static JsonNode? Walk(JsonNode? node, string path, IReadOnlyDictionary<string, JsonNode?> vars, HashSet<string> declared, HashSet<string> used, List<string> errors)
    {
        switch (node)
        {
            case JsonObject map:
                var copy = new JsonObject();
                foreach (var (key, value) in map) copy[key] = Walk(value, $"{path}/{key}", vars, declared, used, errors);
                return copy;
            case JsonArray list:
                return new JsonArray([.. list.Select((item, index) => Walk(item, $"{path}/{index}", vars, declared, used, errors))]);
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                return Substitute(value.GetValue<string>(), path, vars, declared, used, errors);
            default:
                return node?.DeepClone();
        }
    }

    private static JsonNode? Substitute(string text, string path, IReadOnlyDictionary<string, JsonNode?> vars, HashSet<string> declared, HashSet<string> used, List<string> errors)
    {
        var matches = Reference().Matches(text);
        if (matches.Count == 0) return JsonValue.Create(text);
        if (matches is [{ Index: 0 } whole] && whole.Length == text.Length)
        {
            return Resolve(whole.Groups[1].Value, path, vars, declared, used, errors, out var value) ? value?.DeepClone() : JsonValue.Create(text);
        }
        var result = new StringBuilder();
        var position = 0;
        foreach (Match match in matches)
        {
            result.Append(text, position, match.Index - position);
            if (Resolve(match.Groups[1].Value, path, vars, declared, used, errors, out var value))
            {
                if (value is JsonValue scalar && scalar.GetValueKind() is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False)
                {
                    result.Append(scalar.GetValueKind() == JsonValueKind.String ? scalar.GetValue<string>() : scalar.ToJsonString());
                }
                else
                {
                    errors.Add($"{path}: var '{match.Groups[1].Value}' is not a scalar and cannot be spliced into text");
                }
            }
            else
            {
                result.Append(match.Value);
            }
            position = match.Index + match.Length;
        }
        result.Append(text, position, text.Length - position);
        return JsonValue.Create(result.ToString());
    }

    /// <returns>true when substituted from a given var; false when left for the director (or missing, reported).</returns>
    private static bool Resolve(string reference, string path, IReadOnlyDictionary<string, JsonNode?> vars, HashSet<string> declared, HashSet<string> used, List<string> errors, out JsonNode? value)
    {
        value = null;
        var parts = reference.Split('.');
        if (vars.TryGetValue(parts[0], out var given))
        {
            used.Add(parts[0]);
            value = given;
            foreach (var key in parts.Skip(1))
            {
                if (value is not JsonObject map || !map.ContainsKey(key))
                {
                    errors.Add($"{path}: var '{reference}' has no key '{key}'");
                    value = null;
                    return false;
                }
                value = map[key];
            }
            return true;
        }
        if (!declared.Contains(parts[0]))
        {
            errors.Add($"{path}: var '{reference}' is neither given nor declared under variables:");
        }
        return false;
    }
}
