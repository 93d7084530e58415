namespace OnDemand.ConcourseEmulator;

/// <summary>
/// A pipeline's mutable state. Every field below <see cref="Gate"/> is read and written only while holding it;
/// the gate is per pipeline, so requests for different pipelines never wait on each other.
/// </summary>
internal sealed class EmulatedPipeline(long id, string team, string name)
{
    public long Id { get; } = id;
    public string Team { get; } = team;
    public string Name { get; } = name;
    public object Gate { get; } = new();

    /// <summary>Set when DELETE removed it; a request that looked it up just before must then answer 404.</summary>
    public bool Deleted { get; set; }
    public bool Paused { get; set; } = true;
    public bool Archived { get; set; }
    public long ConfigVersion { get; set; }
    public string? ConfigJson { get; set; }
    public DateTimeOffset LastUpdated { get; set; }

    /// <summary>Every job the pipeline ever had: Concourse keeps a removed job's builds and counter, inactive.</summary>
    public Dictionary<string, EmulatedJob> Jobs { get; } = new(StringComparer.Ordinal);

    /// <summary>Builds waiting for an unpause, oldest first.</summary>
    public List<EmulatedBuild> PendingBuilds { get; } = [];
}
