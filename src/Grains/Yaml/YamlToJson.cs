using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace OnDemand.Grains.Yaml;

/// <summary>
/// Converts a loaded YAML tree to JSON: scalars typed by <see cref="YamlScalars"/>, aliases expanded (within the node
/// and depth limits, recursive structures refused), merge keys (`&lt;&lt;`) resolved. Merges are resolved here rather
/// than with YamlDotNet's MergingParser, because MergingParser reports "Duplicate key" when a mapping overrides a
/// merged key, which is the whole point of a `meta:` block of defaults. One instance converts one tree once.
/// </summary>
public sealed class YamlToJson(string subject, IYamlStrings strings)
{
    // Aliases share YamlNode instances, so a node that is its own ancestor is a recursive structure (`&a [*a]`).
    private readonly HashSet<YamlNode> _ancestors = new(ReferenceEqualityComparer.Instance);
    private int _nodeCount;

    /// <exception cref="YamlLoadException">the tree breaks a limit or the core schema.</exception>
    public JsonNode? Convert(YamlNode root)
    {
        try
        {
            return Convert(root, depth: 1);
        }
        catch (YamlNodeException e)
        {
            throw new YamlLoadException($"{subject} is invalid at {YamlLimits.Position(e.Start)}: {e.Message}", e);
        }
    }

    private JsonNode? Convert(YamlNode node, int depth)
    {
        if (depth > YamlLimits.MaxDepth)
        {
            throw YamlScalars.Error(node, $"the structure (after expanding aliases) is nested deeper than {YamlLimits.MaxDepth} levels");
        }

        if (++_nodeCount > YamlLimits.MaxNodes)
        {
            throw YamlScalars.Error(node, $"the document expands to more than {YamlLimits.MaxNodes} nodes (too many aliases?)");
        }

        if (!_ancestors.Add(node))
        {
            throw YamlScalars.Error(node, "an alias refers to a node that contains it (recursive structure)");
        }

        try
        {
            return node switch
            {
                YamlScalarNode scalar => YamlScalars.Resolve(scalar, strings.String),
                YamlSequenceNode sequence => ConvertSequence(sequence, depth),
                YamlMappingNode mapping => ConvertMapping(mapping, depth),
                _ => throw YamlScalars.Error(node, $"unsupported YAML node {node.NodeType}"),
            };
        }
        finally
        {
            _ancestors.Remove(node);
        }
    }

    private JsonArray ConvertSequence(YamlSequenceNode sequence, int depth)
    {
        YamlScalars.EnsureCollectionTag(sequence, YamlScalars.SeqTag);
        var array = new JsonArray();
        foreach (var item in sequence.Children)
        {
            array.Add(Convert(item, depth + 1));
        }

        return array;
    }

    private JsonObject ConvertMapping(YamlMappingNode mapping, int depth)
    {
        YamlScalars.EnsureCollectionTag(mapping, YamlScalars.MapTag);

        // YAML merge semantics: keys written in the mapping win over merged ones, and among several merged
        // mappings the earlier one wins. Merged keys appear where the `<<` key stands, so output order is stable.
        var explicitKeys = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in mapping.Children.Keys)
        {
            if (!IsMergeKey(key))
            {
                explicitKeys.Add(YamlScalars.KeyText(key));
            }
        }

        var result = new JsonObject();
        foreach (var (key, value) in mapping.Children)
        {
            if (IsMergeKey(key))
            {
                foreach (var source in MergeSources(value))
                {
                    var merged = (JsonObject)Convert(source, depth + 1)!;
                    var entries = merged.ToList();
                    merged.Clear(); // detaches the children so they can move into this mapping
                    foreach (var (mergedKey, mergedValue) in entries)
                    {
                        if (!explicitKeys.Contains(mergedKey) && !result.ContainsKey(mergedKey))
                        {
                            result[mergedKey] = mergedValue;
                        }
                    }
                }

                continue;
            }

            var text = YamlScalars.KeyText(key);
            strings.Key(text);
            if (result.ContainsKey(text))
            {
                throw YamlScalars.Error(key, $"duplicate key '{text}'");
            }

            result[text] = Convert(value, depth + 1);
        }

        return result;
    }

    private static bool IsMergeKey(YamlNode key) =>
        key is YamlScalarNode { Value: "<<", Style: ScalarStyle.Plain } scalar
        && (scalar.Tag.IsEmpty || scalar.Tag.Value == YamlScalars.MergeTag);

    private static IEnumerable<YamlMappingNode> MergeSources(YamlNode value) => value switch
    {
        YamlMappingNode mapping => [mapping],
        YamlSequenceNode sequence when sequence.Children.All(item => item is YamlMappingNode) =>
            sequence.Children.Cast<YamlMappingNode>(),
        _ => throw YamlScalars.Error(value, "a merge key '<<' needs a mapping or a list of mappings"),
    };
}
