using System.Text.Json.Nodes;
using OnDemand.Grains.Yaml;

namespace OnDemand.Grains.Pipelines.Verification;

/// <summary>
/// Reads a BOSH manifest or ops file into JSON nodes with the broker's one YAML reader (<see cref="YamlLoader"/>: YAML
/// 1.2 core schema, which agrees with BOSH's YAML 1.1 reader on everything the project's files use; quoted scalars
/// stay strings).
/// </summary>
public static class YamlTree
{
    /// <exception cref="FormatException">the file is not YAML the loader accepts; the message names <paramref name="what"/>.</exception>
    public static JsonNode? Parse(string yaml, string what)
    {
        try
        {
            return YamlLoader.Parse(yaml, what);
        }
        catch (YamlLoadException e)
        {
            throw new FormatException(e.Message, e);
        }
    }
}
