using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace OnDemand.Grains.Yaml;

/// <summary>
/// The one YAML reader of the broker (catalog, pipeline templates, BOSH files): one document, within
/// <see cref="YamlLimits"/>, typed by the YAML 1.2 core schema (<see cref="YamlScalars"/>), converted to JSON nodes
/// by <see cref="YamlToJson"/>. Every failure is a <see cref="YamlLoadException"/> whose message starts with the
/// subject (e.g. "the pipeline template").
/// </summary>
public static class YamlLoader
{
    /// <summary>Reads the text into a YAML tree, for callers that convert one tree many times.</summary>
    public static YamlNode Load(string yaml, string subject)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        YamlLimits.EnsureSize(yaml, subject);
        try
        {
            var stream = new YamlStream();
            stream.Load(YamlLimits.BoundedEventBuffer.Read(yaml, subject));
            return stream.Documents.Count switch
            {
                0 => throw new YamlLoadException($"{subject} is empty"),
                1 => stream.Documents[0].RootNode,
                _ => throw new YamlLoadException($"{subject} must contain exactly one YAML document"),
            };
        }
        catch (YamlException e)
        {
            throw new YamlLoadException($"{subject} is not valid YAML ({YamlLimits.Position(e.Start)}): {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner gives up this way on some broken flow collections ("a: [1, 2" and a next line).
            throw new YamlLoadException($"{subject} is not valid YAML: it cannot be read to its end (look for an unclosed '[', '{{' or quote)", e);
        }
    }

    /// <summary>Reads the text into JSON nodes, strings kept as written.</summary>
    public static JsonNode? Parse(string yaml, string subject) =>
        new YamlToJson(subject, PlainYamlStrings.Instance).Convert(Load(yaml, subject));
}
