using System.Text.Json.Nodes;

namespace OnDemand.ConcourseEmulator;

/// <summary>The outcome of validating a pipeline config.</summary>
/// <param name="Config">the config to store (unknown top-level keys dropped); null when it could not be read.</param>
/// <param name="Errors">Concourse-worded errors; non-empty means 400.</param>
internal sealed record PipelineValidation(JsonObject? Config, IReadOnlyList<JobSpec> Jobs, IReadOnlyList<string> Errors, IReadOnlyList<ConfigWarning> Warnings);
