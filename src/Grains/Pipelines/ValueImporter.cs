using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace OnDemand.Grains.Pipelines;

/// <summary>
/// Copies a caller's value into a fresh, canonical JSON tree (numbers as JSON text, exotic CLR-backed values
/// normalized) and refuses anything that would not stay inert once it is in the pipeline config.
/// </summary>
internal static class ValueImporter
{
    public const int MaxStringBytes = 64 * 1024;
    public const int MaxValueDepth = 32;

    public static JsonNode? Import(string name, JsonNode? value) => Import(name, value, depth: 1);

    private static JsonNode? Import(string name, JsonNode? value, int depth)
    {
        if (depth > MaxValueDepth)
        {
            throw new PipelineRenderException($"parameter value for '{name}' is nested deeper than {MaxValueDepth} levels");
        }

        switch (value)
        {
            case null:
                return null;
            case JsonObject map:
                var copy = new JsonObject();
                foreach (var (key, child) in map)
                {
                    EnsureInert(name, key);
                    copy[key] = Import(name, child, depth + 1);
                }

                return copy;
            case JsonArray list:
                var items = new JsonArray();
                foreach (var child in list)
                {
                    items.Add(Import(name, child, depth + 1));
                }

                return items;
        }

        switch (value.GetValueKind())
        {
            case JsonValueKind.String:
                var text = value is JsonValue scalar && scalar.TryGetValue<string>(out var direct)
                    ? direct
                    : JsonSerializer.Deserialize<string>(value)!; // e.g. a DateTime or Guid wrapped by JsonValue.Create
                EnsureInert(name, text);
                return JsonValue.Create(text);
            case JsonValueKind.Number:
                return ReparseNumber(name, value);
            case JsonValueKind.True:
                return JsonValue.Create(true);
            case JsonValueKind.False:
                return JsonValue.Create(false);
            case JsonValueKind.Object or JsonValueKind.Array:
                return Import(name, ReparseContainer(name, value, depth), depth);
            default:
                return null;
        }
    }

    private static JsonNode ReparseNumber(string name, JsonNode value)
    {
        try
        {
            return JsonNode.Parse(value.ToJsonString())!;
        }
        catch (ArgumentException)
        {
            throw new PipelineRenderException($"parameter value for '{name}' is not a finite number");
        }
    }

    /// <summary>A JsonValue can wrap a whole JsonElement object or array; reparse it into real nodes.</summary>
    private static JsonNode ReparseContainer(string name, JsonNode value, int depth)
    {
        try
        {
            var options = new JsonDocumentOptions { MaxDepth = MaxValueDepth - depth + 1 };
            return JsonNode.Parse(value.ToJsonString(), documentOptions: options)!;
        }
        catch (JsonException)
        {
            throw new PipelineRenderException($"parameter value for '{name}' is nested deeper than {MaxValueDepth} levels");
        }
    }

    private static void EnsureInert(string name, string text)
    {
        if (text.Length > MaxStringBytes || Encoding.UTF8.GetByteCount(text) > MaxStringBytes)
        {
            throw new PipelineRenderException(
                $"parameter value for '{name}' has a string longer than {MaxStringBytes / 1024} KiB");
        }

        if (text.Contains("((", StringComparison.Ordinal))
        {
            throw new PipelineRenderException(
                $"parameter value for '{name}' may not contain '((': Concourse would resolve it from the credential manager at run time");
        }

        if (text.Contains('\0'))
        {
            throw new PipelineRenderException($"parameter value for '{name}' may not contain a NUL character");
        }

        if (!IsWellFormedUtf16(text))
        {
            // The JSON writer would silently turn a lone surrogate into U+FFFD; refuse instead of altering data.
            throw new PipelineRenderException($"parameter value for '{name}' is not valid Unicode text");
        }
    }

    private static bool IsWellFormedUtf16(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(text[i]))
            {
                return false;
            }
        }

        return true;
    }
}
