using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace OnDemand.ConcourseEmulator;

/// <summary>
/// Converts a YAML pipeline the way Concourse does (sigs.k8s.io/yaml over go-yaml v2, i.e. YAML 1.1 scalars):
/// anchors, aliases and <c>&lt;&lt;</c> merge keys are resolved; plain scalars become null, bools (true/yes/on/y...),
/// integers or floats; quoted and block scalars stay strings.
/// </summary>
internal static partial class YamlToJson
{
    private static readonly HashSet<string> Nulls = new(StringComparer.Ordinal) { "", "~", "null", "Null", "NULL" };
    private static readonly HashSet<string> Trues = new(StringComparer.Ordinal) { "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON" };
    private static readonly HashSet<string> Falses = new(StringComparer.Ordinal) { "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF" };

    /// <exception cref="FormatException">the YAML is not usable; Message says why, like Concourse's "malformed config".</exception>
    public static JsonNode? Convert(string yaml)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new MergingParser(new Parser(new StringReader(yaml))));
        }
        catch (YamlException ex)
        {
            throw new FormatException($"error converting YAML to JSON: yaml: line {ex.Start.Line}: {ex.Message}", ex);
        }
        return stream.Documents.Count == 0 ? null : ToJson(stream.Documents[0].RootNode, depth: 0);
    }

    private static JsonNode? ToJson(YamlNode node, int depth)
    {
        // Aliases can nest a document into itself; a real config is never this deep.
        if (depth > 256)
        {
            throw new FormatException("error converting YAML to JSON: document nested too deeply");
        }
        switch (node)
        {
            case YamlMappingNode mapping:
                var json = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    if (key is not YamlScalarNode { Value: { } name })
                    {
                        throw new FormatException($"error converting YAML to JSON: unsupported map key at line {key.Start.Line}");
                    }
                    if (json.ContainsKey(name))
                    {
                        throw new FormatException($"error converting YAML to JSON: yaml: line {key.Start.Line}: key \"{name}\" already set in map");
                    }
                    json[name] = ToJson(value, depth + 1);
                }
                return json;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var item in sequence.Children)
                {
                    array.Add(ToJson(item, depth + 1));
                }
                return array;
            case YamlScalarNode scalar:
                return Scalar(scalar);
            default:
                throw new FormatException($"error converting YAML to JSON: unsupported node at line {node.Start.Line}");
        }
    }

    private static JsonNode? Scalar(YamlScalarNode scalar)
    {
        var value = scalar.Value ?? "";
        if (!scalar.Tag.IsEmpty)
        {
            return scalar.Tag.Value switch
            {
                "tag:yaml.org,2002:str" => JsonValue.Create(value),
                "tag:yaml.org,2002:null" => null,
                _ => Resolve(value),
            };
        }
        return scalar.Style is ScalarStyle.Plain or ScalarStyle.Any ? Resolve(value) : JsonValue.Create(value);
    }

    private static JsonNode? Resolve(string value)
    {
        if (Nulls.Contains(value))
        {
            return null;
        }
        if (Trues.Contains(value))
        {
            return JsonValue.Create(true);
        }
        if (Falses.Contains(value))
        {
            return JsonValue.Create(false);
        }
        if (IntegerPattern().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }
        if (FloatPattern().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var real))
        {
            return JsonValue.Create(real);
        }
        return JsonValue.Create(value);
    }

    [GeneratedRegex(@"^[-+]?(0|[1-9][0-9]*)$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
