using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace OnDemand.Grains.Pipelines;

/// <summary>
/// One render's `((var))` substitution, applied to the template's string scalars only (map keys stay text; their
/// references are still reported). A substituted value is a fresh node that is never walked again, and no value may
/// smuggle a new `((reference))` into the config: Concourse resolves those from the credential manager at run time.
/// </summary>
internal sealed class VariableSubstitution(IReadOnlyDictionary<string, JsonNode?> variables)
{
    private readonly Dictionary<string, JsonNode?> _imported = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _unresolved = new(StringComparer.Ordinal);

    /// <summary>`((var))` names left for the credential manager, sorted, distinct.</summary>
    public IReadOnlyList<string> UnresolvedVariables => [.. _unresolved];

    /// <summary>Keys are never substituted; their references are left for the credential manager.</summary>
    public void Key(TemplateText key)
    {
        foreach (var reference in key.References)
        {
            _unresolved.Add(reference.Name);
        }
    }

    /// <summary>
    /// Applies variables to one string scalar. A scalar that is exactly one reference takes the value's type;
    /// references inside longer text are spliced as text. Unknown and source-qualified references stay.
    /// </summary>
    public JsonNode? String(TemplateText text)
    {
        if (text.IsWholeReference)
        {
            return TryGetValue(text.References[0], out var value) ? value?.DeepClone() : JsonValue.Create(text.Text);
        }

        var result = new StringBuilder(text.Text.Length);
        var kept = new HashSet<(int Start, int Length)>();
        var spliced = new List<(int Start, int Length, string Name)>();
        var position = 0;
        foreach (var reference in text.References)
        {
            result.Append(text.Text, position, reference.Index - position);
            if (TryGetValue(reference, out var value))
            {
                var piece = SpliceText(reference.Name, value);
                spliced.Add((result.Length, piece.Length, reference.Name));
                result.Append(piece);
            }
            else
            {
                kept.Add((result.Length, reference.Length));
                result.Append(text.Text, reference.Index, reference.Length);
            }

            position = reference.Index + reference.Length;
        }

        if (spliced.Count == 0)
        {
            return JsonValue.Create(text.Text); // nothing given: the text as the template wrote it
        }

        result.Append(text.Text, position, text.Text.Length - position);
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
        foreach (Match match in TemplateText.Find(rendered))
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

    private bool TryGetValue(TemplateText.Reference reference, out JsonNode? value)
    {
        value = null;
        if (reference.HasSource || !variables.TryGetValue(reference.Name, out var given))
        {
            _unresolved.Add(reference.Name);
            return false;
        }

        if (!_imported.TryGetValue(reference.Name, out value))
        {
            value = ValueImporter.Import(reference.Name, given);
            _imported[reference.Name] = value;
        }

        return true;
    }
}
