namespace OnDemand.ConcourseEmulator;

/// <summary>A job of an <see cref="EmulatedPipeline"/>; guarded by the pipeline's gate.</summary>
internal sealed class EmulatedJob(string name)
{
    public string Name { get; } = name;

    /// <summary>False once a config update removed the job (or the pipeline was archived).</summary>
    public bool Active { get; set; }
    public bool DisableManualTrigger { get; set; }

    /// <summary>The per-job counter behind a build's "name".</summary>
    public int LastBuildNumber { get; set; }

    /// <summary>Oldest first, so listing newest first with a limit is a short walk from the end.</summary>
    public List<EmulatedBuild> Builds { get; } = [];
}
