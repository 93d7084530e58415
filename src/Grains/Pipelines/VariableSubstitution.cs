using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OnDemand.Grains.Yaml;

namespace OnDemand.Grains.Pipelines;

/// <summary>
/// One render's `((var))` substitution, applied by <see cref="YamlToJson"/> to string scalars only (never to map keys,
/// whose references are still reported). A substituted value is a fresh node that is never walked again, and no value
/// may smuggle a new `((reference))` into the config: Concourse resolves those from the credential manager at run time.
/// </summary>
internal sealed partial class VariableSubstitution(IReadOnlyDictionary<string, JsonNode?> variables) : IYamlStrings
{
    private readonly Dictionary<string, JsonNode?> _imported = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _unresolved = new(StringComparer.Ordinal);

    /// <summary>`((var))` names left for the credential manager, sorted, distinct.</summary>
    public IReadOnlyList<string> UnresolvedVariables => [.. _unresolved];

    /// <summary>Concourse's reference syntax (vars/template.go), with Go's ASCII-only `\w` spelled out.</summary>
    [GeneratedRegex("""\(\((([-/.0-9A-Za-z_\p{L}]+:)?[-/.:@"0-9A-Za-z_\p{L}]+)\)\)""", RegexOptions.CultureInvariant)]
    private static partial Regex VarReference();

    /// <summary>Keys stay text: never typed, never substituted. References in them are still reported.</summary>
    public void Key(string text)
    {
        foreach (Match match in VarReference().Matches(text))
        {
            _unresolved.Add(match.Groups[1].Value);
        }
    }

    /// <summary>
    /// Applies variables to one string scalar. A scalar that is exactly one reference takes the value's type;
    /// references inside longer text are spliced as text. Unknown and source-qualified references stay.
    /// </summary>
    public JsonNode? String(string text)
    {
        var matches = VarReference().Matches(text);
        if (matches.Count == 0)
        {
            return JsonValue.Create(text);
        }

        if (matches is [{ Index: 0 } whole] && whole.Length == text.Length)
        {
            return TryGetValue(whole, out _, out var value) ? value?.DeepClone() : JsonValue.Create(text);
        }

        var result = new StringBuilder(text.Length);
        var kept = new HashSet<(int Start, int Length)>();
        var spliced = new List<(int Start, int Length, string Name)>();
        var position = 0;
        foreach (Match match in matches)
        {
            result.Append(text, position, match.Index - position);
            if (TryGetValue(match, out var name, out var value))
            {
                var piece = SpliceText(name, value);
                spliced.Add((result.Length, piece.Length, name));
                result.Append(piece);
            }
            else
            {
                kept.Add((result.Length, match.Length));
                result.Append(match.Value);
            }

            position = match.Index + match.Length;
        }

        result.Append(text, position, text.Length - position);
        var rendered = result.ToString();
        EnsureNoNewReferences(rendered, kept, spliced);
        return JsonValue.Create(rendered);
    }

    /// <summary>
    /// A spliced value has no `((` of its own, but it could still complete one with the template's text around
    /// it (`((a` + `))`). Every reference Concourse will find in the result must be one the template wrote.
    /// </summary>
    private static void EnsureNoNewReferences(
        string rendered, HashSet<(int Start, int Length)> kept, List<(int Start, int Length, string Name)> spliced)
    {
        foreach (Match match in VarReference().Matches(rendered))
        {
            if (kept.Contains((match.Index, match.Length)))
            {
                continue;
            }

            var culprit = spliced.FirstOrDefault(s => s.Start < match.Index + match.Length && match.Index < s.Start + s.Length);
            var name = culprit.Name ?? spliced[0].Name;
            throw new PipelineRenderException(
                $"parameter value for '{name}' would form a '((...))' reference with the surrounding template text");
        }
    }

    private static string SpliceText(string name, JsonNode? value) => value?.GetValueKind() switch
    {
        JsonValueKind.String => value.GetValue<string>(),
        JsonValueKind.Number => value.ToJsonString(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        var kind => throw new PipelineRenderException(
            $"parameter '{name}' is {Describe(kind)} and can only be used as a whole value, not inside a longer string"),
    };

    private static string Describe(JsonValueKind? kind) => kind switch
    {
        JsonValueKind.Object => "a map",
        JsonValueKind.Array => "a list",
        _ => "null",
    };

    private bool TryGetValue(Match reference, out string name, out JsonNode? value)
    {
        name = reference.Groups[1].Value;
        value = null;
        var hasSource = reference.Groups[2].Success; // `((vault:x))`, `((.:x))`: resolved by Concourse, not by us
        if (hasSource || !variables.TryGetValue(name, out var given))
        {
            _unresolved.Add(name);
            return false;
        }

        if (!_imported.TryGetValue(name, out value))
        {
            value = ValueImporter.Import(name, given);
            _imported[name] = value;
        }

        return true;
    }
}
