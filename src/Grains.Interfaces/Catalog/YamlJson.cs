using System.Globalization;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace OnDemand.Grains.Interfaces.Catalog;

/// <summary>
/// Reads YAML into a typed JSON tree. Only plain (unquoted) scalars are typed, following the YAML 1.2 core schema
/// (null, booleans, integers, floats); quoted scalars always stay strings, so `"8"` is the string "8".
/// </summary>
public static partial class YamlJson
{
    public static JsonNode? Parse(string yaml)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(yaml))
            stream.Load(new MergingParser(new Parser(reader)));
        return stream.Documents.Count == 0 ? null : ToJson(stream.Documents[0].RootNode);
    }

    public static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => ToObject(map),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => ScalarToJson(scalar),
        _ => throw new YamlException(node.Start, node.End, $"unsupported YAML node {node.NodeType}"),
    };

    private static JsonObject ToObject(YamlMappingNode map)
    {
        var result = new JsonObject();
        foreach (var (key, value) in map.Children)
        {
            if (key is not YamlScalarNode { Value: { } name })
                throw new YamlException(key.Start, key.End, "mapping keys must be plain strings");
            if (result.ContainsKey(name))
                throw new YamlException(key.Start, key.End, $"duplicate key '{name}'");
            result[name] = ToJson(value);
        }
        return result;
    }

    private static JsonNode? ScalarToJson(YamlScalarNode scalar)
    {
        var text = scalar.Value ?? "";
        var tag = scalar.Tag.IsEmpty ? null : scalar.Tag.Value;
        if (tag is "tag:yaml.org,2002:str") return JsonValue.Create(text);
        if (tag is not null && !tag.StartsWith("tag:yaml.org,2002:", StringComparison.Ordinal) && tag != "!")
            throw new YamlException(scalar.Start, scalar.End, $"unsupported YAML tag '{tag}'");
        if (scalar.Style != ScalarStyle.Plain) return JsonValue.Create(text);
        return TypePlainScalar(text);
    }

    public static JsonNode? TypePlainScalar(string text)
    {
        switch (text)
        {
            case "" or "~" or "null" or "Null" or "NULL": return null;
            case "true" or "True" or "TRUE": return JsonValue.Create(true);
            case "false" or "False" or "FALSE": return JsonValue.Create(false);
        }
        if (IsInteger(text) && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
            return JsonValue.Create(integer);
        if (IsFloat(text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
            return JsonValue.Create(number);
        return JsonValue.Create(text);
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial System.Text.RegularExpressions.Regex IntegerPattern();

    [System.Text.RegularExpressions.GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial System.Text.RegularExpressions.Regex FloatPattern();

    private static bool IsInteger(string text) => IntegerPattern().IsMatch(text);

    private static bool IsFloat(string text) => FloatPattern().IsMatch(text);
}
