using System.Text.Json;
using System.Text.Json.Nodes;
using OnDemand.Grains.Yaml;
using YamlDotNet.RepresentationModel;

namespace OnDemand.Grains.Pipelines;

/// <summary>
/// A pipeline template loaded, checked and typed once (<see cref="YamlLoader"/>, <see cref="YamlToJson"/>: limits,
/// aliases, merge keys, the YAML 1.2 core schema), kept as a tree whose only per-render work is the `((var))`
/// substitution of the string scalars that hold a reference. Typing never depends on the variables: a substituted
/// value replaces a string scalar and is never typed or walked again, so rendering this tree gives the same config,
/// the same errors in the same order and the same unresolved names as converting the YAML tree anew each time.
/// </summary>
internal sealed class CompiledTemplate
{
    private readonly Node _root;
    private readonly TemplateText[] _keysWithReferences;

    private CompiledTemplate(Node root, TemplateText[] keysWithReferences)
    {
        _root = root;
        _keysWithReferences = keysWithReferences;
    }

    /// <exception cref="YamlLoadException">the template is not valid YAML or breaks a limit.</exception>
    public static CompiledTemplate Compile(YamlNode root, string subject)
    {
        var keys = new KeysWithReferences();
        var typed = new YamlToJson(subject, keys).Convert(root);
        return new CompiledTemplate(Node.From(typed), [.. keys.Texts.Select(TemplateText.Parse)]);
    }

    /// <summary>A new config tree: the template's values with this render's variables substituted.</summary>
    public JsonNode? Render(VariableSubstitution substitution)
    {
        foreach (var key in _keysWithReferences) substitution.Key(key);
        return _root.Render(substitution);
    }

    /// <summary>Strings stay text at compile time; map keys that might hold a reference are remembered.</summary>
    private sealed class KeysWithReferences : IYamlStrings
    {
        public List<string> Texts { get; } = [];

        public JsonNode? String(string text) => JsonValue.Create(text);

        public void Key(string text)
        {
            if (TemplateText.MayHoldReference(text)) Texts.Add(text);
        }
    }

    private abstract class Node
    {
        public abstract JsonNode? Render(VariableSubstitution substitution);

        public static Node From(JsonNode? typed) => typed switch
        {
            null => NullNode.Instance,
            JsonObject map => new MapNode([.. map.Select(entry => new KeyValuePair<string, Node>(entry.Key, From(entry.Value)))]),
            JsonArray list => new ListNode([.. list.Select(From)]),
            JsonValue text when text.GetValueKind() == JsonValueKind.String && TemplateText.MayHoldReference(text.GetValue<string>()) => new TextNode(TemplateText.Parse(text.GetValue<string>())),
            JsonValue value => new FixedNode(value),
            _ => throw new InvalidOperationException($"unexpected node {typed.GetType().Name}"),
        };
    }

    private sealed class NullNode : Node
    {
        public static readonly NullNode Instance = new();

        public override JsonNode? Render(VariableSubstitution substitution) => null;
    }

    /// <summary>A number, bool or a string without references: copied as it is.</summary>
    private sealed class FixedNode(JsonValue value) : Node
    {
        public override JsonNode? Render(VariableSubstitution substitution) => value.DeepClone();
    }

    /// <summary>A string scalar with `((...))` in it, its references found once: substituted on every render.</summary>
    private sealed class TextNode(TemplateText text) : Node
    {
        public override JsonNode? Render(VariableSubstitution substitution) => substitution.String(text);
    }

    private sealed class MapNode(KeyValuePair<string, Node>[] entries) : Node
    {
        public override JsonNode? Render(VariableSubstitution substitution)
        {
            var map = new JsonObject();
            foreach (var (key, value) in entries) map.Add(key, value.Render(substitution));
            return map;
        }
    }

    private sealed class ListNode(Node[] items) : Node
    {
        public override JsonNode? Render(VariableSubstitution substitution)
        {
            var list = new JsonArray();
            foreach (var item in items) list.Add(item.Render(substitution));
            return list;
        }
    }
}
