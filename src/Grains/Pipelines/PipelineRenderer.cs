using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OnDemand.Grains.Yaml;
using YamlDotNet.RepresentationModel;

namespace OnDemand.Grains.Pipelines;

/// <summary>
/// Renders a pipeline template the way fly does (structural `((var))` substitution), but hardened for values that
/// come from users: a value is inserted as data into the parsed tree and is never parsed as YAML, and no value may
/// smuggle a new `((reference))` into the config, because Concourse resolves those from the credential manager at
/// run time.
/// </summary>
/// <remarks>
/// The template is read by the broker's one YAML loader (<see cref="YamlLoader"/>: limits, YAML 1.2 core schema typing,
/// merge keys), the same that reads the catalog. The output is JSON, so Concourse sees exactly the types decided there.
/// Substitution (<see cref="VariableSubstitution"/>) happens while the tree is converted, on string scalars only;
/// values are copied in by <see cref="ValueImporter"/>.
/// </remarks>
public sealed class PipelineRenderer : IPipelineRenderer
{
    public const int MaxTemplateBytes = YamlLimits.MaxDocumentBytes;
    public const int MaxValueStringBytes = ValueImporter.MaxStringBytes;

    private const string Subject = "the pipeline template";

    // The default encoder escapes everything outside ASCII, so the bytes (and the hash) never depend on how a
    // terminal or proxy treats bidi or zero-width characters; JSON readers get the exact strings back.
    private static readonly JsonSerializerOptions OutputOptions = new() { WriteIndented = false };

    public RenderedPipeline Render(string templateYaml, IReadOnlyDictionary<string, JsonNode?> variables)
    {
        ArgumentNullException.ThrowIfNull(templateYaml);
        ArgumentNullException.ThrowIfNull(variables);

        try
        {
            var root = ParsedTemplates.TryGetValue(templateYaml, out var parsed) ? parsed : Parse(templateYaml);
            if (root is not YamlMappingNode)
            {
                throw new PipelineRenderException($"{Subject} must be a YAML mapping at the top level");
            }

            var substitution = new VariableSubstitution(variables);
            var config = new YamlToJson(Subject, substitution).Convert(root)!;
            var json = config.ToJsonString(OutputOptions);
            var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
            return new RenderedPipeline(json, hash, substitution.UnresolvedVariables);
        }
        catch (YamlLoadException e)
        {
            throw new PipelineRenderException(e.Message);
        }
    }

    // The configured templates are parsed once: parsing dominated rendering. The tree is only read afterwards
    // (substitution builds a new JSON tree), so one parsed tree serves concurrent renders. Bounded: templates are
    // few, but callers may pass arbitrary text.
    private const int MaxCachedTemplates = 32;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, YamlNode> ParsedTemplates = new(StringComparer.Ordinal);

    private static YamlNode Parse(string templateYaml)
    {
        var root = YamlLoader.Load(templateYaml, Subject);
        if (ParsedTemplates.Count < MaxCachedTemplates) ParsedTemplates.TryAdd(templateYaml, root);
        return root;
    }
}
