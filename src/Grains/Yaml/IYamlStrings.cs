using System.Text.Json.Nodes;

namespace OnDemand.Grains.Yaml;

/// <summary>
/// How <see cref="YamlToJson"/> turns string scalars into JSON, and what it tells about map keys. The default keeps
/// the text; the pipeline renderer's compiler (Pipelines/CompiledTemplate.cs) also notes the keys that hold
/// `((references))`.
/// </summary>
public interface IYamlStrings
{
    /// <summary>The node for a scalar the core schema resolved to a string.</summary>
    JsonNode? String(string text);

    /// <summary>Sees every map key (keys always stay text).</summary>
    void Key(string text);
}

/// <summary>Strings stay the text the file wrote.</summary>
public sealed class PlainYamlStrings : IYamlStrings
{
    public static readonly PlainYamlStrings Instance = new();

    public JsonNode? String(string text) => JsonValue.Create(text);

    public void Key(string text)
    {
    }
}
