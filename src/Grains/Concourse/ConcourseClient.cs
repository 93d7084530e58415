using System.Net;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flurl.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

using OnDemand.Grains.Http;

namespace OnDemand.Grains.Concourse;

/// <summary>
/// <see cref="IConcourseClient"/> over HTTP (semantics: docs/concourse-api.md), on the shared
/// <see cref="OutboundHttpClient"/>. Thread-safe; meant to be a singleton per silo so that all grains share one bearer
/// token and one connection pool.
/// </summary>
public sealed partial class ConcourseClient : IConcourseClient, IDisposable
{
    // fly's public OAuth client: every Concourse accepts it for the password grant.
    private const string FlyClientId = "fly";
    private const string FlyClientSecret = "Zmx5";
    private const string TokenScope = "openid profile email federated:id groups";
    private const string ConfigVersionHeader = "X-Concourse-Config-Version";
    // The only 500 that is not transient: Concourse's answer to a missing or stale config version.
    private const string StaleConfigMarker = "comparison with existing config failed";
    private const int MaxQuotedBodyLength = 500;

    // Used when a token endpoint omits expires_in; Concourse's own default lifetime is 24 h.
    private static readonly TimeSpan FallbackTokenLifetime = TimeSpan.FromHours(1);

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        // Config JSON is data compared and hashed by the broker, never embedded in HTML: keep it as written.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private readonly ILogger _logger;
    private readonly OutboundHttpClient _http;
    private readonly string _webRoot;
    private readonly string _team;

    public ConcourseClient(IOptions<ConcourseOptions> options, ILogger<ConcourseClient> logger)
        : this(options.Value, logger)
    {
    }

    /// <param name="clock">for token expiry; the system clock when null.</param>
    public ConcourseClient(ConcourseOptions options, ILogger<ConcourseClient>? logger = null, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!Uri.TryCreate(options.Url, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"Concourse:Url must be an absolute http(s) URL, got '{options.Url}'.", nameof(options));
        }
        if (string.IsNullOrWhiteSpace(options.Team))
        {
            throw new ArgumentException("Concourse:Team must be set.", nameof(options));
        }
        if (options.RequestTimeout <= TimeSpan.Zero)
        {
            throw new ArgumentException("Concourse:RequestTimeout must be positive.", nameof(options));
        }

        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _team = options.Team;
        _webRoot = options.Url.TrimEnd('/');
        _http = new OutboundHttpClient(
            new OutboundHttpSettings("Concourse", options.RequestTimeout, (call, reason, inner) => new ConcourseUnavailableException($"Concourse {call}: {reason}", inner))
            {
                Clock = clock,
                Login = new OAuthLogin($"{_webRoot}/sky/issuer/token", FlyClientId, FlyClientSecret, OAuthLogin.PasswordGrant(options.Username, options.Password, TokenScope))
                {
                    Call = $"login as '{options.Username}'",
                    Issuer = _webRoot,
                    Principal = options.Username,
                    FallbackLifetime = FallbackTokenLifetime,
                    // Wrong credentials are reported as unavailable, not rejected: an operator fixes the secret and the
                    // pending operations go on, instead of every one of them failing for good.
                    Refused = (call, answer) => new ConcourseUnavailableException($"Concourse {call} failed ({answer.Status}): {ConcourseWords(answer)}"),
                },
            },
            _logger);
    }

    public async Task<PipelineConfigSnapshot?> GetPipelineConfigAsync(string pipeline, CancellationToken cancellationToken)
    {
        var call = $"GET config of pipeline '{pipeline}'";
        var response = await SendAsync(call, HttpMethod.Get, () => PipelineRequest(pipeline, "config"), null, cancellationToken);
        if (response.Status == (int)HttpStatusCode.NotFound)
        {
            return null;
        }
        EnsureSuccess(call, response);

        if (!long.TryParse(response.Header(ConfigVersionHeader), out var version))
        {
            throw new ConcourseUnavailableException($"Concourse {call}: answer without a valid {ConfigVersionHeader} header");
        }
        var config = ParseJson(call, response.Body)?["config"]
            ?? throw new ConcourseUnavailableException($"Concourse {call}: answer without a config object");
        return new PipelineConfigSnapshot(version, config.ToJsonString(Json));
    }

    public async Task<long?> GetPipelineConfigVersionAsync(string pipeline, CancellationToken cancellationToken)
    {
        var call = $"GET config version of pipeline '{pipeline}'";
        var response = await _http.SendAsync(call, HttpMethod.Get, () => PipelineRequest(pipeline, "config"), null, cancellationToken, AnswerBody.UnlessSuccessful);
        if (response.Status == (int)HttpStatusCode.NotFound)
        {
            return null;
        }
        EnsureSuccess(call, response);
        return long.TryParse(response.Header(ConfigVersionHeader), out var version)
            ? version
            : throw new ConcourseUnavailableException($"Concourse {call}: answer without a valid {ConfigVersionHeader} header");
    }

    public async Task<SetPipelineOutcome> SetPipelineConfigAsync(string pipeline, string configJson, long? configVersion, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(configJson);
        var call = $"PUT config of pipeline '{pipeline}'";
        var response = await SendAsync(
            call,
            HttpMethod.Put,
            () =>
            {
                var request = PipelineRequest(pipeline, "config");
                return configVersion is { } version
                    ? request.WithHeader(ConfigVersionHeader, version.ToString(System.Globalization.CultureInfo.InvariantCulture))
                    : request;
            },
            () => HttpJson.Content(configJson),
            cancellationToken);

        var outcome = response.Status switch
        {
            (int)HttpStatusCode.Created => SetPipelineOutcome.Created,
            (int)HttpStatusCode.OK => SetPipelineOutcome.Updated,
            _ => throw Failure(call, response),
        };
        LogConfigWarnings(pipeline, response.Body);
        return outcome;
    }

    public async Task UnpausePipelineAsync(string pipeline, CancellationToken cancellationToken)
    {
        var call = $"unpause pipeline '{pipeline}'";
        var response = await SendAsync(call, HttpMethod.Put, () => PipelineRequest(pipeline, "unpause"), null, cancellationToken);
        EnsureSuccess(call, response);
    }

    public async Task<ConcourseBuild> TriggerJobAsync(string pipeline, string job, CancellationToken cancellationToken)
    {
        var call = $"trigger job '{pipeline}/{job}'";
        var response = await SendAsync(
            call, HttpMethod.Post, () => PipelineRequest(pipeline, "jobs").AppendPathSegment(job, fullyEncode: true).AppendPathSegment("builds"), null, cancellationToken);
        EnsureSuccess(call, response);
        return ParseBuild(call, response.Body);
    }

    public async Task<IReadOnlyList<ConcourseBuild>> GetJobBuildsAsync(string pipeline, string job, int limit, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        var call = $"list builds of job '{pipeline}/{job}'";
        var response = await SendAsync(
            call,
            HttpMethod.Get,
            () => PipelineRequest(pipeline, "jobs").AppendPathSegment(job, fullyEncode: true).AppendPathSegment("builds").SetQueryParam("limit", limit),
            null,
            cancellationToken);
        if (response.Status == (int)HttpStatusCode.NotFound)
        {
            return [];
        }
        EnsureSuccess(call, response);

        var builds = Deserialize<List<BuildDto>>(call, response.Body) ?? [];
        return builds.Select(dto => ToBuild(call, dto)).ToList();
    }

    public async Task<ConcourseBuild?> GetBuildAsync(long buildId, CancellationToken cancellationToken)
    {
        var call = $"GET build {buildId}";
        var response = await SendAsync(call, HttpMethod.Get, () => BuildRequest(buildId), null, cancellationToken);
        if (response.Status == (int)HttpStatusCode.NotFound)
        {
            return null;
        }
        EnsureSuccess(call, response);
        return ParseBuild(call, response.Body);
    }

    public async Task AbortBuildAsync(long buildId, CancellationToken cancellationToken)
    {
        var call = $"abort build {buildId}";
        var response = await SendAsync(call, HttpMethod.Put, () => BuildRequest(buildId).AppendPathSegment("abort"), null, cancellationToken);
        EnsureSuccess(call, response);
    }

    public async Task<bool> DeletePipelineAsync(string pipeline, CancellationToken cancellationToken)
    {
        var call = $"DELETE pipeline '{pipeline}'";
        var response = await SendAsync(call, HttpMethod.Delete, () => PipelineRequest(pipeline), null, cancellationToken);
        if (response.Status == (int)HttpStatusCode.NotFound)
        {
            return false;
        }
        EnsureSuccess(call, response);
        return true;
    }

    public string BuildWebUrl(ConcourseBuild build)
    {
        ArgumentNullException.ThrowIfNull(build);
        return $"{PipelineWebUrl(build.PipelineName)}/jobs/{Uri.EscapeDataString(build.JobName)}/builds/{Uri.EscapeDataString(build.Name)}";
    }

    public string PipelineWebUrl(string pipeline) =>
        $"{_webRoot}/teams/{Uri.EscapeDataString(_team)}/pipelines/{Uri.EscapeDataString(pipeline)}";

    public void Dispose() => _http.Dispose();

    private IFlurlRequest PipelineRequest(string pipeline, string? action = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pipeline);
        // fullyEncode: a name is one path segment whatever it contains ('/', '?', '#', spaces).
        var request = _http.Request(_webRoot, "api", "v1", "teams")
            .AppendPathSegment(_team, fullyEncode: true)
            .AppendPathSegment("pipelines")
            .AppendPathSegment(pipeline, fullyEncode: true);
        return action is null ? request : request.AppendPathSegment(action);
    }

    private IFlurlRequest BuildRequest(long buildId) =>
        _http.Request(_webRoot, "api", "v1", "builds").AppendPathSegment(buildId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private Task<HttpAnswer> SendAsync(
        string call, HttpMethod method, Func<IFlurlRequest> request, Func<HttpContent>? content, CancellationToken cancellationToken) =>
        _http.SendAsync(call, method, request, content, cancellationToken);

    private void EnsureSuccess(string call, HttpAnswer response)
    {
        if (!response.IsSuccess)
        {
            throw Failure(call, response);
        }
    }

    private Exception Failure(string call, HttpAnswer response)
    {
        if (response.Status == (int)HttpStatusCode.InternalServerError && response.Body.Contains(StaleConfigMarker, StringComparison.Ordinal))
        {
            return new ConcourseConfigConflictException($"Concourse {call}: {ConcourseWords(response)}");
        }
        if (response.Status == (int)HttpStatusCode.Unauthorized)
        {
            // The shared client already logged in again once: retry later rather than fail for good.
            return new ConcourseUnavailableException($"Concourse {call}: {HttpFailures.RejectedAfterLogin}");
        }
        return _http.TransientFailure(call, response)
            ?? new ConcourseRejectedException(response.Status, $"Concourse refused {call} ({response.Status}): {ConcourseWords(response)}");
    }

    /// <summary>Concourse's own explanation: the "errors" of a 400, an OAuth error, or the plain-text body.</summary>
    private static string ConcourseWords(HttpAnswer response)
    {
        var body = response.Body.Trim();
        if (body.Length == 0)
        {
            return HttpFailures.ReasonPhrase(response.Status);
        }
        if (body[0] == '{')
        {
            try
            {
                if (JsonNode.Parse(body) is JsonObject json)
                {
                    if (json["errors"] is JsonArray errors && errors.Count > 0)
                    {
                        return string.Join("; ", errors.Select(e => OneLine(e?.ToString() ?? "")).Where(e => e.Length > 0));
                    }
                    if (json["error"] is JsonValue error)
                    {
                        var description = json["error_description"]?.ToString();
                        return string.IsNullOrEmpty(description) ? error.ToString() : $"{error}: {description}";
                    }
                }
            }
            catch (JsonException)
            {
                // Not JSON after all: quote it as text.
            }
        }
        var text = OneLine(body);
        return text.Length <= MaxQuotedBodyLength ? text : string.Concat(text.AsSpan(0, MaxQuotedBodyLength), "...");
    }

    /// <summary>Concourse groups errors as "invalid jobs:\n\tjobs.x ...\n\tjobs.y ...": one line reads better in last_operation.</summary>
    private static string OneLine(string text)
    {
        var builder = new StringBuilder();
        foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (builder.Length > 0)
            {
                builder.Append(builder[^1] == ':' ? " " : "; ");
            }
            builder.Append(line);
        }
        return builder.ToString();
    }


    private void LogConfigWarnings(string pipeline, string body)
    {
        if (string.IsNullOrWhiteSpace(body) || !_logger.IsEnabled(LogLevel.Warning))
        {
            return;
        }
        try
        {
            if (JsonNode.Parse(body)?["warnings"] is JsonArray warnings)
            {
                foreach (var warning in warnings)
                {
                    Log.ConfigWarning(_logger, pipeline, warning?["type"]?.ToString() ?? "", warning?["message"]?.ToString() ?? "");
                }
            }
        }
        catch (JsonException)
        {
            // Warnings are advisory: a body we cannot read must not fail a saved config.
        }
    }

    private static ConcourseBuild ParseBuild(string call, string body) =>
        ToBuild(call, Deserialize<BuildDto>(call, body) ?? throw new ConcourseUnavailableException($"Concourse {call}: empty answer"));

    private static ConcourseBuild ToBuild(string call, BuildDto dto)
    {
        if (dto.Id <= 0 || string.IsNullOrEmpty(dto.Status))
        {
            throw new ConcourseUnavailableException($"Concourse {call}: answer is not a build");
        }
        return new ConcourseBuild(dto.Id, dto.Name ?? "", dto.Status, dto.JobName ?? "", dto.PipelineName ?? "", dto.StartTime, dto.EndTime);
    }

    private static JsonNode? ParseJson(string call, string body)
    {
        try
        {
            return JsonNode.Parse(body);
        }
        catch (JsonException ex)
        {
            // A 2xx that is not JSON comes from something in between (a proxy's HTML page): retry later.
            throw new ConcourseUnavailableException($"Concourse {call}: answer is not JSON", ex);
        }
    }

    private static T? Deserialize<T>(string call, string body)
    {
        try
        {
            return JsonSerializer.Deserialize<T>(body, Json);
        }
        catch (JsonException ex)
        {
            throw new ConcourseUnavailableException($"Concourse {call}: unreadable answer", ex);
        }
    }

    private sealed class BuildDto
    {
        public long Id { get; init; }
        public string? Name { get; init; }
        public string? Status { get; init; }
        public string? JobName { get; init; }
        public string? PipelineName { get; init; }
        public long? StartTime { get; init; }
        public long? EndTime { get; init; }
    }

    private static partial class Log
    {
        [LoggerMessage(Level = LogLevel.Warning, Message = "Concourse accepted the config of pipeline {Pipeline} with a warning ({WarningType}): {WarningMessage}")]
        public static partial void ConfigWarning(ILogger logger, string pipeline, string warningType, string warningMessage);
    }
}
