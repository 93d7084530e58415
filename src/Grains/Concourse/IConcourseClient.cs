namespace OnDemand.Grains.Concourse;

/// <summary>
/// The part of the Concourse API the broker drives (see docs/concourse-api.md). One instance per silo; it logs in
/// lazily, caches the bearer token and logs in again once on a 401. Every pipeline route is under the configured team.
/// Transient faults (5xx other than the stale-config answer, timeouts, connection refused, a 401 that survives a fresh
/// login) throw <see cref="ConcourseUnavailableException"/>; permanent refusals throw <see cref="ConcourseRejectedException"/>.
/// </summary>
public interface IConcourseClient
{
    /// <summary>GET {p}/config. Null when the pipeline does not exist (404).</summary>
    Task<PipelineConfigSnapshot?> GetPipelineConfigAsync(string pipeline, CancellationToken cancellationToken);

    /// <summary>
    /// GET {p}/config for its X-Concourse-Config-Version header only (the config itself is not read). Null when the
    /// pipeline does not exist (404).
    /// </summary>
    Task<long?> GetPipelineConfigVersionAsync(string pipeline, CancellationToken cancellationToken);

    /// <summary>
    /// PUT {p}/config with a JSON body. <paramref name="configVersion"/> is sent as X-Concourse-Config-Version when
    /// not null (required to update an existing pipeline). A stale or missing version on an existing pipeline
    /// throws <see cref="ConcourseConfigConflictException"/>.
    /// </summary>
    Task<SetPipelineOutcome> SetPipelineConfigAsync(string pipeline, string configJson, long? configVersion, CancellationToken cancellationToken);

    /// <summary>PUT {p}/unpause.</summary>
    Task UnpausePipelineAsync(string pipeline, CancellationToken cancellationToken);

    /// <summary>POST {p}/jobs/{job}/builds.</summary>
    Task<ConcourseBuild> TriggerJobAsync(string pipeline, string job, CancellationToken cancellationToken);

    /// <summary>GET {p}/jobs/{job}/builds?limit=N, newest first. Empty when the pipeline or job does not exist.</summary>
    Task<IReadOnlyList<ConcourseBuild>> GetJobBuildsAsync(string pipeline, string job, int limit, CancellationToken cancellationToken);

    /// <summary>GET /api/v1/builds/{id}. Null on 404.</summary>
    Task<ConcourseBuild?> GetBuildAsync(long buildId, CancellationToken cancellationToken);

    /// <summary>PUT /api/v1/builds/{id}/abort.</summary>
    Task AbortBuildAsync(long buildId, CancellationToken cancellationToken);

    /// <summary>GET /api/v1/teams/{team}/pipelines: the names of the team's pipelines.</summary>
    Task<IReadOnlyList<string>> ListPipelinesAsync(CancellationToken cancellationToken);

    /// <summary>DELETE {p}. False when the pipeline was already gone.</summary>
    Task<bool> DeletePipelineAsync(string pipeline, CancellationToken cancellationToken);

    /// <summary>The build's web page: {url}/teams/{team}/pipelines/{pipeline}/jobs/{job}/builds/{name}.</summary>
    string BuildWebUrl(ConcourseBuild build);

    /// <summary>The pipeline's web page: {url}/teams/{team}/pipelines/{pipeline}.</summary>
    string PipelineWebUrl(string pipeline);
}

public sealed record PipelineConfigSnapshot(long Version, string ConfigJson);

public enum SetPipelineOutcome { Created, Updated }

public sealed record ConcourseBuild(long Id, string Name, string Status, string JobName, string PipelineName, long? StartTime, long? EndTime)
{
    public bool IsRunning => Status is "pending" or "started";
    public bool Succeeded => Status == "succeeded";
}

public class ConcourseException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Concourse could not be reached or answered 5xx: retry later.</summary>
public sealed class ConcourseUnavailableException(string message, Exception? inner = null) : ConcourseException(message, inner);

/// <summary>Concourse refused the request for good (400/403/404/409...). Message carries Concourse's own words.</summary>
public sealed class ConcourseRejectedException(int statusCode, string message) : ConcourseException(message)
{
    public int StatusCode { get; } = statusCode;
}

/// <summary>The config version sent was stale (someone else changed the pipeline) or missing on an existing pipeline.</summary>
public sealed class ConcourseConfigConflictException(string message) : ConcourseException(message);
