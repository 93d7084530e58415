using System.Globalization;
using System.Text.Json.Nodes;
using Flurl;
using Flurl.Http;
using OnDemand.Grains.Provisioning;
using OnDemand.Grains.Http;

namespace OnDemand.Grains.InnerBroker;

/// <summary>One inner broker: its base URL (no credentials in it) and the account to use.</summary>
internal sealed record InnerBrokerTarget(string BaseUrl, string Username, string Password)
{
    public string Where => $"cluster broker {BaseUrl}";
}

/// <summary>An inner broker's answer: its status and its body when that is JSON.</summary>
internal sealed record OsbReply(int Status, JsonNode? Body)
{
    public string? Operation => Body is JsonObject body ? OsbJson.Text(body, "operation") : null;
}

/// <summary>
/// The OSB API (2.15) client of the clusters' own inner brokers, on the shared <see cref="OutboundHttpClient"/>: Basic
/// auth per inner broker, the OSB headers, and the mapping of an answer to a <see cref="DatabaseProvisioningException"/>.
/// No connection, timeouts, 5xx, 408, 429 and 422 <c>ConcurrencyError</c> (the instance is busy) are transient; every
/// other rejection is not, and carries the inner broker's description. Answer bodies are never logged.
/// </summary>
internal sealed class InnerBrokerClient : IDisposable
{
    /// <summary>What Cloud Controller sends; inner brokers all accept it.</summary>
    public const string ApiVersion = "2.15";

    private const string ApiVersionHeader = "X-Broker-API-Version";
    private const string RequestIdentityHeader = "X-Broker-API-Request-Identity";
    private const int MaxDescriptionLength = 500;

    private readonly OutboundHttpClient _http;
    private readonly string _scheme;
    private readonly Action<string> _catalogMayHaveChanged;

    /// <param name="scheme">"http" or "https".</param>
    /// <param name="catalogMayHaveChanged">called with the base URL of an inner broker that answered 400.</param>
    public InnerBrokerClient(string scheme, ILogger logger, Action<string> catalogMayHaveChanged)
    {
        _scheme = scheme;
        _catalogMayHaveChanged = catalogMayHaveChanged;
        _http = new OutboundHttpClient(
            new OutboundHttpSettings(
                "Inner broker",
                TimeSpan.FromSeconds(10),
                (call, reason, inner) => new DatabaseProvisioningException($"{call} failed: {reason}. Will retry.", transient: true, inner))
            {
                AcceptJson = true,
            },
            logger);
    }

    /// <summary>Time limit of one HTTP call to an inner broker (connect included).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public InnerBrokerTarget TargetOf(ClusterAdminEndpoint admin)
    {
        ArgumentNullException.ThrowIfNull(admin);
        ArgumentException.ThrowIfNullOrWhiteSpace(admin.Host);
        ArgumentOutOfRangeException.ThrowIfLessThan(admin.Port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(admin.Port, 65535);
        var host = admin.Host.Contains(':', StringComparison.Ordinal) && !admin.Host.StartsWith('[') ? $"[{admin.Host}]" : admin.Host;
        return new InnerBrokerTarget($"{_scheme}://{host}:{admin.Port.ToString(CultureInfo.InvariantCulture)}", admin.Username, admin.Password);
    }

    public static Url CatalogUrl(InnerBrokerTarget target) => new Url(target.BaseUrl).AppendPathSegments("v2", "catalog");

    public static Url InstanceUrl(InnerBrokerTarget target, string instanceId) =>
        new Url(target.BaseUrl).AppendPathSegments("v2", "service_instances").AppendPathSegment(instanceId, fullyEncode: true);

    public static Url BindingUrl(InnerBrokerTarget target, string instanceId, string bindingId) =>
        InstanceUrl(target, instanceId).AppendPathSegment("service_bindings").AppendPathSegment(bindingId, fullyEncode: true);

    public static Url LastOperationUrl(InnerBrokerTarget target, string instanceId, string serviceId, string planId, string? operation)
    {
        var url = InstanceUrl(target, instanceId).AppendPathSegment("last_operation")
            .SetQueryParam("service_id", serviceId)
            .SetQueryParam("plan_id", planId);
        return operation is null ? url : url.SetQueryParam("operation", operation);
    }

    /// <summary>One call; no answer (in time) is a transient <see cref="DatabaseProvisioningException"/>.</summary>
    public async Task<OsbReply> SendAsync(InnerBrokerTarget target, string action, HttpMethod method, Url url, JsonObject? body, CancellationToken ct)
    {
        var request = _http.Request(url.ToString())
            .WithBasicAuth(target.Username, target.Password)
            .WithHeader(ApiVersionHeader, ApiVersion)
            .WithHeader(RequestIdentityHeader, Guid.NewGuid().ToString())
            .WithTimeout(RequestTimeout);
        var answer = await _http.SendOnceAsync($"{target.Where}: {action}", method, request, body is null ? null : HttpJson.Content(body), ct);
        return new OsbReply(answer.Status, HttpJson.TryParse(answer.Body));
    }

    public DatabaseProvisioningException Failure(InnerBrokerTarget target, string action, OsbReply reply)
    {
        var error = reply.Body is JsonObject body ? OsbJson.Text(body, "error") : null;
        var transient = HttpFailures.IsTransientStatus(reply.Status) || (reply.Status == 422 && error == "ConcurrencyError");
        if (reply.Status == 400)
        {
            // Perhaps an unknown service or plan: the inner catalog may have changed, read it again next time.
            _catalogMayHaveChanged(target.BaseUrl);
        }
        var reason = reply.Status switch
        {
            401 => $"the cluster's broker rejected the credentials of '{target.Username}' (HTTP 401)",
            403 => $"the cluster's broker refused '{target.Username}' (HTTP 403)",
            412 => $"the cluster's broker does not accept OSB API version {ApiVersion} (HTTP 412)",
            422 when error == "ConcurrencyError" => "the cluster's broker is busy with another operation on it (HTTP 422 ConcurrencyError)",
            _ => $"the cluster's broker answered HTTP {reply.Status}",
        };
        return new DatabaseProvisioningException(
            $"{target.Where}: {action} failed: {reason}{DescriptionText(reply)}.{(transient ? " Will retry." : "")}", transient);
    }

    /// <summary>": description (error)" from an OSB error body, or "".</summary>
    public static string DescriptionText(OsbReply reply, string prefix = ": ")
    {
        if (reply.Body is not JsonObject body)
        {
            return "";
        }
        var description = OsbJson.Text(body, "description");
        var error = OsbJson.Text(body, "error");
        return (description, error) switch
        {
            (null, null) => "",
            (null, _) => $"{prefix}{Truncate(error!)}",
            (_, null) => $"{prefix}{Truncate(description)}",
            _ => $"{prefix}{Truncate(description)} ({Truncate(error)})",
        };
    }

    public static string OperationText(string? operation) => operation is null ? "" : $" (operation '{Truncate(operation)}')";

    public static string Truncate(string text) =>
        text.Length <= MaxDescriptionLength ? text : string.Concat(text.AsSpan(0, MaxDescriptionLength), "…");

    public void Dispose() => _http.Dispose();
}
