namespace OnDemand.Grains.Yaml;

/// <summary>
/// The YAML text cannot be loaded: malformed, over a limit, or outside the core schema. Message is user-facing and
/// names the document (the subject given to <see cref="YamlLoader"/>) and, where known, the line and column.
/// </summary>
public sealed class YamlLoadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A problem at one node, before the loader adds the document's name (see <see cref="YamlToJson"/>).</summary>
internal sealed class YamlNodeException(YamlDotNet.Core.Mark start, string detail) : Exception(detail)
{
    public YamlDotNet.Core.Mark Start { get; } = start;
}
