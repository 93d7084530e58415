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
/// The loaded and typed template is kept (<see cref="CompiledTemplate"/>); a render substitutes
/// (<see cref="VariableSubstitution"/>) the string scalars that hold references; values are copied in by
/// <see cref="ValueImporter"/>.
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

        var template = CompiledTemplates.TryGetValue(templateYaml, out var compiled) ? compiled : Compile(templateYaml);
        var substitution = new VariableSubstitution(variables);
        var config = template.Render(substitution)!;
        return new RenderedPipeline(config.ToJsonString(OutputOptions), substitution.UnresolvedVariables, config);
    }

    // The configured templates are loaded, typed and checked once (CompiledTemplate): loading and typing dominated
    // rendering. A compiled template is only read afterwards, so one serves concurrent renders. Bounded: templates are
    // few, but callers may pass arbitrary text. A template that fails to load is not kept: every render reports it.
    private const int MaxCachedTemplates = 32;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, CompiledTemplate> CompiledTemplates = new(StringComparer.Ordinal);

    private static CompiledTemplate Compile(string templateYaml)
    {
        CompiledTemplate template;
        try
        {
            var root = YamlLoader.Load(templateYaml, Subject);
            if (root is not YamlMappingNode)
            {
                throw new PipelineRenderException($"{Subject} must be a YAML mapping at the top level");
            }

            template = CompiledTemplate.Compile(root, Subject);
        }
        catch (YamlLoadException e)
        {
            throw new PipelineRenderException(e.Message);
        }

        if (CompiledTemplates.Count < MaxCachedTemplates) CompiledTemplates.TryAdd(templateYaml, template);
        return template;
    }
}
