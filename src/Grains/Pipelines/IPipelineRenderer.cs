using System.Text.Json.Nodes;

namespace OnDemand.Grains.Pipelines;

/// <summary>
/// Turns a pipeline template (YAML text) plus typed variables into a Concourse pipeline config (JSON).
/// Substitution happens on the parsed tree, never on text: a value that is the whole scalar `((name))` replaces the
/// node with its typed JSON value (number, bool, list, map); inside a longer string it must be a string/number/bool
/// and is spliced in as text. Variables not given stay `((name))` references for Concourse's credential manager.
/// </summary>
public interface IPipelineRenderer
{
    /// <exception cref="PipelineRenderException">the template or a value is unusable; Message is user-facing.</exception>
    RenderedPipeline Render(string templateYaml, IReadOnlyDictionary<string, JsonNode?> variables);
}

/// <param name="ConfigJson">the config to PUT, compact JSON.</param>
/// <param name="UnresolvedVariables">`((var))` names left for the credential manager, sorted, distinct.</param>
/// <param name="Config">the same config as a tree, for checks that read it (never to be changed: ConfigJson is what is sent).</param>
public sealed record RenderedPipeline(string ConfigJson, IReadOnlyList<string> UnresolvedVariables, JsonNode Config)
{
    /// <summary>Lowercase hex SHA-256 of ConfigJson, to tell whether a config changed.</summary>
    public string ConfigHash => Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(ConfigJson)));
}

public sealed class PipelineRenderException(string message) : Exception(message);
