using System.Globalization;
using System.Text.Json.Nodes;

namespace OnDemand.Grains.InnerBroker;

/// <summary>Lenient reading of the fields of an inner broker's JSON answers.</summary>
internal static class OsbJson
{
    /// <summary>The first of <paramref name="names"/> that holds a non-empty string.</summary>
    public static string? Text(JsonObject json, params string[] names)
    {
        foreach (var name in names)
        {
            if (json[name] is JsonValue value && value.TryGetValue<string>(out var text) && !string.IsNullOrEmpty(text))
            {
                return text;
            }
        }
        return null;
    }

    /// <summary>A number, or a string holding one ("5432").</summary>
    public static int? Number(JsonObject json, string name) => json[name] switch
    {
        JsonValue value when value.TryGetValue<int>(out var number) => number,
        JsonValue value when value.TryGetValue<string>(out var text)
            && int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };
}
